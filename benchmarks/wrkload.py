"""Load from wrk (a C load generator from Debian's packages) instead of Python.

On two cores a Python client saturates its core long before a fast server
does, so its figures measure the client. wrk drives the same requests from
one thread at a fraction of the CPU, leaving the server under test the other core.
"""

from __future__ import annotations

import json
import re
import resource
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class WrkResult:
    """What one wrk run reported."""

    requests: int = 0
    elapsed: float = 0.0
    non_2xx: int = 0
    socket_errors: int = 0
    percentiles_ms: dict[int, float] = field(default_factory=dict)
    client_cpu: float = 0.0


def available() -> bool:
    """True when wrk is installed."""
    return shutil.which("wrk") is not None


def _lua(method: str, headers: dict[str, str], body: str | None, subjects: list[str]) -> str:
    lines = [f"wrk.method = {json.dumps(method)}"]
    lines += [f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items()]
    if body is not None:
        lines.append(f"wrk.body = {json.dumps(body)}")
    if subjects:
        quoted = ", ".join(json.dumps(s) for s in subjects)
        lines += [
            f"local subjects = {{{quoted}}}",
            "local i = 0",
            "request = function()",
            "  i = i % #subjects + 1",
            '  wrk.headers["X-Subject-Token"] = subjects[i]',
            "  return wrk.format()",
            "end",
        ]
    return "\n".join(lines) + "\n"


_UNIT = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNIT[unit]


def parse(output: str, seconds: float) -> WrkResult:
    """Read wrk's --latency report."""
    result = WrkResult(elapsed=seconds)
    done = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", output)
    if done:
        result.requests = int(done.group(1))
        result.elapsed = _ms(done.group(2) + done.group(3)) / 1000
    non = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    result.non_2xx = int(non.group(1)) if non else 0
    sock = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    result.socket_errors = sum(int(g) for g in sock.groups()) if sock else 0
    for pct, value in re.findall(
        r"^\s+(50|75|90|99)%\s+([\d.]+(?:us|ms|s|m))\s*$", output, re.MULTILINE
    ):
        result.percentiles_ms[int(pct)] = _ms(value)
    return result


def run(
    url: str,
    *,
    method: str,
    headers: dict[str, str],
    body: str | None,
    subjects: list[str],
    concurrency: int,
    seconds: float,
) -> WrkResult:
    """One fixed-time wrk run with ``concurrency`` connections from one thread."""
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "request.lua"
        script.write_text(_lua(method, headers, body, subjects))
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        done = subprocess.run(
            [
                "wrk",
                "-t1",
                f"-c{concurrency}",
                f"-d{seconds:g}s",
                "--latency",
                "-s",
                str(script),
                url,
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            check=True,
        )
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = parse(done.stdout, seconds)
    result.client_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return result
