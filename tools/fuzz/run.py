"""`make fuzz`: schemathesis and hand-written bad input against a fresh cloud.

    .venv/bin/python tools/fuzz/run.py [--max-examples 20] [--max-time 600]
                                       [--services identity,compute] [--no-schemathesis]

1. Starts a fresh cloud as the tempest runner does (``tools/fuzz/live.py``) and
   issues admin and demo tokens.
2. Writes each service's OpenAPI document (``tools/fuzz/openapi.py``) and runs
   schemathesis against every service that serves operations, with the admin
   token, checking ``not_a_server_error`` (no 5xx) and
   ``response_schema_conformance`` (bodies match the document, errors match the
   service's error format). Bounded: ``--max-examples`` per operation and
   ``--max-time`` seconds in all, shared among the services by operation count.
3. Sends every hand-written probe (``tools/fuzz/probes.py``) to every operation.
4. Searches the cloud's log files for the passwords and tokens it used.
5. Writes ``reports/fuzz.md`` and stops the cloud (``kumo down --purge``).

Exits non-zero when anything answered 5xx, a probe got a wrong answer, or a
secret was logged. Schema violations are reported, not fatal: the documents are
FastAPI's and still loose for services being built.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
for _extra in (REPO, REPO / "benchmarks"):  # run as a script: `tools.fuzz`, `reporting`
    if str(_extra) not in sys.path:
        sys.path.insert(0, str(_extra))

import httpx  # noqa: E402
import reporting  # noqa: E402  (benchmarks/reporting.py)

from tools.fuzz import live as lives  # noqa: E402
from tools.fuzz.openapi import OUT, write_all  # noqa: E402
from tools.fuzz.probes import Outcome, probes_for, send  # noqa: E402
from tools.fuzz.routes import Service, build_services  # noqa: E402
from tools.tempest.cloud import client_env  # noqa: E402

ST = REPO / ".venv" / "bin" / "st"
CHECKS = "not_a_server_error,response_schema_conformance"
SERVER_ERROR_CODES = {"ST101"}  # schemathesis' code for "Server error"
#: Services fuzzed without schemathesis' stateful phase. Its links lead it from
#: ``GET /v3/auth/projects`` to ``PATCH /v3/projects/{admin project}`` with
#: ``enabled: false``: a legitimate admin request that revokes the harness' own
#: tokens, after which every later case and probe got 401 (the run of 2026-11-29).
NO_STATEFUL = frozenset({"identity"})
PHASES = "examples,coverage,fuzzing,stateful"


@dataclass
class ServiceResult:
    """What one service got from schemathesis and from the probes."""

    service: Service
    operations: int = 0
    st_cases: int = 0
    st_failures: list[dict[str, Any]] = field(default_factory=list)
    st_errors: list[dict[str, Any]] = field(default_factory=list)
    st_reproductions: list[str] = field(default_factory=list)
    st_note: str = ""
    probes_sent: int = 0
    probe_statuses: Counter[int] = field(default_factory=Counter)
    probe_failures: list[Outcome] = field(default_factory=list)

    @property
    def server_errors(self) -> int:
        """5xx found by schemathesis (failures of the not_a_server_error check)."""
        return sum(
            int(f.get("count", 1)) for f in self.st_failures if f.get("code") in SERVER_ERROR_CODES
        )

    @property
    def schema_violations(self) -> int:
        """Every other schemathesis failure: bodies or headers that break the document."""
        return sum(
            int(f.get("count", 1))
            for f in self.st_failures
            if f.get("code") not in SERVER_ERROR_CODES
        )


def run_schemathesis(
    live: lives.Live, service: Service, doc: Path, args: argparse.Namespace, seconds: int
) -> tuple[dict[str, Any], str]:
    """One `st run` against one service; returns its JSON report and its console output."""
    with tempfile.TemporaryDirectory(prefix="kumo-fuzz-") as scratch:
        report = Path(scratch) / "report.json"
        cmd = [
            str(ST), "run", str(doc),
            "--url", live.origin + service.prefix,
            "--header", f"X-Auth-Token: {live.tokens['admin']}",
            "--checks", CHECKS,
            "--max-examples", str(args.max_examples),
            "--max-time", str(max(seconds, 1)),
            "--workers", "1",
            "--seed", str(args.seed),
            "--request-timeout", "30",
            "--report", "json",
            "--report-json-path", str(report),
            "--suppress-health-check", "all",
            "--phases", PHASES.replace(",stateful", "") if service.name in NO_STATEFUL else PHASES,
        ]  # fmt: skip
        env = client_env()
        try:
            done = subprocess.run(
                cmd, capture_output=True, text=True, timeout=seconds + 120, check=False, env=env
            )
            output = done.stdout + done.stderr
        except subprocess.TimeoutExpired as exc:
            output = f"schemathesis did not finish in {seconds + 120} s: {exc}"
        data = json.loads(report.read_text()) if report.exists() else {}
    return data, output


def reproductions(output: str, limit: int = 12) -> list[str]:
    """The failure headings and `curl` lines schemathesis printed (tokens are filtered)."""
    found: list[str] = []
    heading = ""
    lines = output.splitlines()
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith("___") and stripped.endswith("___"):
            heading = stripped.strip("_ ")
        if stripped.startswith("curl "):
            problem = next(
                (x.strip() for x in lines[max(0, i - 30) : i] if x.strip().startswith("- ST")),
                "",
            )
            found.append(f"{heading}: {problem}\n    {stripped[:600]}")
    return found[:limit]


def token_works(live: lives.Live) -> bool:
    """Whether the admin token still validates (schemathesis may have revoked it)."""
    token = live.tokens["admin"]
    resp = httpx.get(
        f"{live.origin}/identity/v3/auth/tokens",
        headers={"X-Auth-Token": token, "X-Subject-Token": token},
        timeout=60,
    )
    return resp.status_code == 200


def probe_service(live: lives.Live, service: Service, result: ServiceResult) -> None:
    """Every hand-written probe against every operation of ``service``."""
    token = live.tokens["admin"]
    with httpx.Client(base_url=live.origin, timeout=60) as client:
        for op in service.operations():
            for probe in probes_for(service, op):
                outcome = send(client, probe, token)
                result.probes_sent += 1
                result.probe_statuses[outcome.status] += 1
                if outcome.problem:
                    result.probe_failures.append(outcome)


def fuzz(args: argparse.Namespace) -> tuple[list[ServiceResult], dict[str, list[str]], str]:
    """Start the cloud, fuzz and probe every chosen service, grep the logs, stop it."""
    services = [s for s in build_services() if not args.services or s.name in args.services]
    results = [ServiceResult(s, operations=len(s.operations())) for s in services]
    docs = {p.stem: p for p in write_all(OUT, services)}
    total_ops = sum(r.operations for r in results) or 1
    live = lives.start()
    origin = live.origin
    try:
        for r in results:
            if not r.operations:
                r.st_note = "serves no operations yet"
                continue
            if args.no_schemathesis:
                r.st_note = "schemathesis not run (--no-schemathesis)"
            else:
                share = int(args.max_time * r.operations / total_ops)
                print(f"{r.service.name}: schemathesis, {r.operations} operations, {share} s")
                data, output = run_schemathesis(live, r.service, docs[r.service.name], args, share)
                r.st_cases = int(data.get("test_cases", {}).get("generated", 0))
                r.st_failures = list(data.get("failures", []))
                r.st_errors = list(data.get("errors", []))
                r.st_reproductions = reproductions(output)
                r.st_note = "" if data else "no report: " + output[-500:]
                if not token_works(live):
                    # Schemathesis may lock the harness out (see NO_STATEFUL): say so, and
                    # take fresh tokens so the probes are judged on routes, not on 401s.
                    r.st_note += " The admin token was refused after schemathesis."
                    old = {f"{k} (revoked)": v for k, v in live.tokens.items()}
                    try:
                        live.tokens |= old | lives.fresh_tokens(live)
                    except RuntimeError as exc:  # e.g. the admin project got disabled
                        r.st_note += f" No new token: {exc}"
            print(f"{r.service.name}: probes")
            probe_service(live, r.service, r)
        leaks = live.leaked_secrets()
    finally:
        live.stop()
    return results, leaks, origin


def write_report(results: list[ServiceResult], leaks: dict[str, list[str]], args: Any) -> Path:
    """``reports/fuzz.md``: summary per service, then every finding with its request."""
    summary = reporting.markdown_table(
        ["service", "operations", "schemathesis cases", "5xx (schemathesis)",
         "schema violations", "probes sent", "probe failures"],
        [
            [
                r.service.name, str(r.operations), str(r.st_cases), str(r.server_errors),
                str(r.schema_violations), str(r.probes_sent), str(len(r.probe_failures)),
            ]
            for r in results
        ],
    )  # fmt: skip
    findings = []
    for r in results:
        findings.append(f"### {r.service.name} (`{r.service.prefix}`)")
        if r.st_note:
            findings.append(f"\n_{r.st_note}_")
        for f in r.st_failures:
            ops = ", ".join(f"`{o}`" for o in f.get("operations", [])[:10])
            findings.append(f"\n- {f.get('code')} {f.get('title')} ×{f.get('count')}: {ops}")
        for e in r.st_errors:
            findings.append(f"\n- schemathesis error: {e.get('title')} ×{e.get('count')}")
        if r.st_reproductions:
            findings.append("\nReproductions (schemathesis; the token is filtered):\n\n```")
            findings += r.st_reproductions
            findings.append("```")
        if r.probe_failures:
            findings.append("\nProbe failures:\n")
            for o in r.probe_failures[:40]:
                findings.append(f"- `{o.probe.label}` → {o.status}: {o.problem}")
            if len(r.probe_failures) > 40:
                findings.append(f"- … and {len(r.probe_failures) - 40} more")
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(r.probe_statuses.items()))
        if statuses:
            findings.append(f"\nProbe answers by status: {statuses}")
        findings.append("")
    secrets = lives.describe_leaks(leaks)
    method = (
        f"A fresh cloud (`kumo up` in a scratch state directory, loopback only). "
        f"Schemathesis {args.schemathesis_version}: checks `{CHECKS}`, "
        f"`--max-examples {args.max_examples}`, seed {args.seed}, {args.max_time} s in all "
        "shared by operation count, admin token. Documents: `make openapi` "
        "(`tools/fuzz/openapi.py`). Probes: `tools/fuzz/probes.py` (bodies over the limit, "
        "10,000-deep JSON, invalid UTF-8, NUL bytes, wrong Content-Type, path traversal and "
        "odd ids, 64 KiB headers, bad limits, unknown microversions) against every operation. "
        "A `huge_header` probe the HTTP server drops or refuses with 431 is not a failure. "
        f"Run time: {args.elapsed:.0f} s."
    )
    return reporting.write_report(
        "fuzz.md",
        "Fuzzing and bad input: every service",
        [("Summary", summary), ("Findings", "\n".join(findings)),
         ("Secrets in logs", secrets), ("Method", method)],
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """Fuzz, probe, report; non-zero on any 5xx, wrong probe answer or leaked secret."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=20)
    parser.add_argument("--max-time", type=int, default=600, help="schemathesis seconds in all")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--services", type=lambda s: s.split(","), default=[])
    parser.add_argument("--no-schemathesis", action="store_true")
    args = parser.parse_args(argv)
    if not ST.exists() and not args.no_schemathesis:
        print(f"{ST} is missing: .venv/bin/pip install schemathesis", file=sys.stderr)
        return 2
    version = subprocess.run([str(ST), "--version"], capture_output=True, text=True, check=False)
    args.schemathesis_version = version.stdout.strip().split()[-1] if version.stdout else "?"
    started = time.monotonic()
    results, leaks, _origin = fuzz(args)
    args.elapsed = time.monotonic() - started
    path = write_report(results, leaks, args)
    bad = sum(r.server_errors + len(r.probe_failures) for r in results) + len(leaks)
    print(f"wrote {path}; {bad} problem(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
