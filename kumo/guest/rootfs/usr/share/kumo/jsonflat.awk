# Flatten one JSON document (stdin) into "path<TAB>value" lines, for shell scripts:
#   {"a": {"b": [1, "x"]}}  ->  a.b.0<TAB>1  and  a.b.1<TAB>x
# Objects are walked by key, arrays by index; newlines inside strings become spaces.
BEGIN { RS = "\001" }
{ text = text $0 }
END { n = length(text); i = 1; value("") }

function ws() { while (i <= n && index(" \t\r\n", substr(text, i, 1))) i++ }

function str(   c, out) {
    i++
    out = ""
    while (i <= n) {
        c = substr(text, i, 1)
        if (c == "\\") {
            c = substr(text, i + 1, 1)
            i += 2
            if (c == "n" || c == "r" || c == "t") out = out " "
            else if (c == "u") { out = out "?"; i += 4 }
            else out = out c
            continue
        }
        i++
        if (c == "\"") return out
        out = out c
    }
    return out
}

function join(path, key) { return path == "" ? key : path "." key }

function value(path,   c, key, k, v) {
    ws()
    c = substr(text, i, 1)
    if (c == "{") {
        i++; ws()
        if (substr(text, i, 1) == "}") { i++; return }
        while (i <= n) {
            ws(); key = str(); ws(); i++
            value(join(path, key))
            ws(); c = substr(text, i, 1); i++
            if (c != ",") return
        }
    } else if (c == "[") {
        i++; ws(); k = 0
        if (substr(text, i, 1) == "]") { i++; return }
        while (i <= n) {
            value(join(path, k)); k++
            ws(); c = substr(text, i, 1); i++
            if (c != ",") return
        }
    } else if (c == "\"") {
        v = str()
        sub(/ +$/, "", v)
        print path "\t" v
    } else {
        v = ""
        while (i <= n && index(",}] \t\r\n", substr(text, i, 1)) == 0) { v = v substr(text, i, 1); i++ }
        print path "\t" v
    }
}
