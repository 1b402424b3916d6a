"""Hand-written bad input, generated for every operation of the route table.

Each :class:`Probe` is one request a careless or hostile client could send, and
what the service must answer: never a 5xx, always an error in the service's own
format, and for some probes one exact status (413 for a body over the limit, 406
for an unknown microversion). The same probes run through the ``cloud`` test
fixture (``tests/security``) and against a live cloud (``tools/fuzz/run.py``);
both send them with an ``httpx.Client`` (a TestClient is one).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from tools.fuzz.routes import Operation, Service, error_format_problem

#: Path segments that try to climb out of the route (already percent-encoded once).
TRAVERSALS = ("..%2F..%2Fetc%2Fpasswd", "%252e%252e%252f", "a%00b", "%FF%FE", "x" * 4096)
#: Counts no page size may take: negative, zero-ish nonsense and beyond any integer column.
BAD_LIMITS = ("-1", str(10**30), "1e9", "abc")
#: Probes refused in front of every route (HTTP server, middleware): a sample of routes
#: is enough when time is short (``thorough=False``).
ROUTE_INDEPENDENT = frozenset({"huge_header", "unknown_microversion", "oversized_body"})
DEEP = 10_000
HUGE_HEADER = 64 * 1024


@dataclass
class Probe:
    """One bad request and what it must get."""

    kind: str
    op: Operation
    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes | None = None
    params: dict[str, str] = field(default_factory=dict)
    #: The statuses allowed; empty means "any status below 500".
    expect: frozenset[int] = frozenset()

    @property
    def label(self) -> str:
        """``kind: METHOD url`` (the body summarised), for reports and failures."""
        query = "&".join(f"{k}={v}" for k, v in self.params.items())
        body = f" body={len(self.content)}B" if self.content else ""
        url = self.url if len(self.url) < 140 else self.url[:120] + "…"
        return f"{self.kind}: {self.method} {url}{'?' + query if query else ''}{body}"


@dataclass
class Outcome:
    """What a probe got, and what was wrong with it (nothing when ``problem`` is None)."""

    probe: Probe
    status: int
    problem: str | None


def sample(schema: dict[str, Any], defs: dict[str, Any], text: str = "x", depth: int = 0) -> Any:
    """A value that fits ``schema`` well enough to reach the handler; strings are ``text``."""
    if depth > 8:
        return None
    if "$ref" in schema:
        return sample(defs.get(schema["$ref"].rsplit("/", 1)[-1], {}), defs, text, depth + 1)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [s for s in schema[key] if s.get("type") != "null"] or schema[key]
            return sample(options[0], defs, text, depth + 1)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        required = schema.get("required", list(props)[:3])
        return {k: sample(props.get(k, {}), defs, text, depth + 1) for k in required}
    if kind == "array":
        return [sample(schema.get("items", {}), defs, text, depth + 1)]
    if kind == "integer":
        return 1
    if kind == "number":
        return 1.0
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return text


def body_schema(op: Operation) -> tuple[dict[str, Any], dict[str, Any]]:
    """The JSON schema of the operation's body model and its definitions ({} if none)."""
    annotation = op.route.body_field.field_info.annotation if op.route.body_field else None
    if annotation is None:
        return {}, {}
    from pydantic import TypeAdapter

    try:
        schema = TypeAdapter(annotation).json_schema()
    except Exception:  # some annotations have no JSON schema; probe with {} instead
        return {}, {}
    return schema, schema.get("$defs", {})


def valid_body(op: Operation, text: str = "x") -> Any:
    """A body shaped like the operation's model, every string set to ``text``."""
    schema, defs = body_schema(op)
    return sample(schema, defs, text) if schema else {}


def probes_for(
    service: Service, op: Operation, kinds: frozenset[str] | None = None, thorough: bool = True
) -> list[Probe]:
    """Every bad-input probe that applies to ``op`` (only ``kinds`` when given).

    ``thorough=False`` sends fewer variants of the odd ids and limits (the fast test slice).
    """
    made = list(_all_probes(service, op, thorough))
    return [p for p in made if kinds is None or p.kind in kinds]


def _all_probes(service: Service, op: Operation, thorough: bool) -> Iterator[Probe]:
    # Every probe names the newest microversion (but the one about microversions), so
    # routes a microversioned service only serves in later versions are reached.
    for probe in _probes(service, op, thorough):
        if probe.kind != "unknown_microversion" and service.microversioned(op):
            probe.headers = service.microversion_header() | probe.headers
        yield probe


def _probes(service: Service, op: Operation, thorough: bool) -> Iterator[Probe]:
    url = op.url()
    json_type = {"Content-Type": "application/json"}
    if op.takes_body and service.max_body is not None:
        big = b'{"x": "' + b"a" * (service.max_body + 1) + b'"}'
        # Streamed bodies (image data) are exempt from the limit: only "no 5xx" holds.
        limited = frozenset({413}) if service.body_limited(op) else frozenset()
        yield Probe("oversized_body", op, op.method, url, json_type, big, expect=limited)
    if op.takes_body:
        deep = b"[" * DEEP + b"]" * DEEP
        yield Probe("deep_nesting", op, op.method, url, json_type, deep)
        deep_obj = b'{"a":' * DEEP + b"1" + b"}" * DEEP
        yield Probe("deep_nesting_object", op, op.method, url, json_type, deep_obj)
        yield Probe("invalid_utf8", op, op.method, url, json_type, b'{"name": "\xff\xfe\xc3"}')
        body = json.dumps(valid_body(op, "a\u0000b")).encode()
        yield Probe("nul_in_body", op, op.method, url, json_type, body)
        wrong = {"Content-Type": "text/plain"}
        good = json.dumps(valid_body(op)).encode()
        # 403 too: a caller the policy refuses anyway may be told so before the body is read.
        allowed = frozenset({400, 403, 415}) if op.has_body_model else frozenset()
        yield Probe("wrong_content_type", op, op.method, url, wrong, good, expect=allowed)
        yield Probe("not_json", op, op.method, url, json_type, b"{nope", expect=allowed)
    for segment in (TRAVERSALS if thorough else TRAVERSALS[::2][:2]) if op.params else ():
        yield Probe("odd_path_id", op, op.method, op.url(segment), json_type, _body_for(op))
    yield Probe("huge_header", op, op.method, url, {"X-Fuzz": "a" * HUGE_HEADER}, _body_for(op))
    if op.is_collection:
        for value in BAD_LIMITS if thorough else BAD_LIMITS[:2]:
            yield Probe("bad_limit", op, "GET", url, params={"limit": value})
        yield Probe("nul_in_query", op, "GET", url, params={"name": "a\x00b", "marker": "../.."})
    for name in op.query_params:
        if name != "limit":
            yield Probe("bad_query", op, op.method, url, params={name: str(10**30)})
    if service.microversioned(op) and service.versions is not None:
        header = {"OpenStack-API-Version": f"{service.versions.service} 9.999"}
        yield Probe(
            "unknown_microversion", op, op.method, url, header, _body_for(op),
            expect=frozenset({406}),
        )  # fmt: skip


def _body_for(op: Operation) -> bytes | None:
    return json.dumps(valid_body(op)).encode() if op.takes_body else None


def send(client: httpx.Client, probe: Probe, token: str | None) -> Outcome:
    """Send one probe (with ``token`` unless None) and judge the answer."""
    headers = dict(probe.headers)
    if token:
        headers["X-Auth-Token"] = token
    try:
        resp = client.request(
            probe.method, probe.url, headers=headers, content=probe.content, params=probe.params
        )
    except httpx.RemoteProtocolError as exc:
        # A server may drop a request whose head is too large instead of answering it.
        if probe.kind == "huge_header":
            return Outcome(probe, 0, None)
        return Outcome(probe, 0, f"connection dropped: {exc}")
    return Outcome(probe, resp.status_code, judge(probe, resp.status_code, resp.content))


def judge(probe: Probe, status: int, body: bytes) -> str | None:
    """What is wrong with the answer ``status``/``body`` to ``probe`` (None when fine)."""
    if status >= 500:
        return f"answered {status}: {body[:300]!r}"
    if probe.expect and status not in probe.expect:
        return f"answered {status}, expected {sorted(probe.expect)}: {body[:200]!r}"
    if probe.kind == "huge_header" and status == 431:
        return None  # the HTTP server refused the head before any service saw it
    if status >= 400 and probe.method != "HEAD":
        return error_format_problem(probe.op.prefix, status, body)
    return None
