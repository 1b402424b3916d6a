#!/usr/bin/env python3
"""`make conformance`: tempest's API tests for every service, one summary report.

    .venv/bin/python tools/tempest/conformance.py                      # every service
    .venv/bin/python tools/tempest/conformance.py --services image,network
    .venv/bin/python tools/tempest/conformance.py --summary-only   # from the service reports

Runs tools/tempest/run.py once per service (each against a fresh `kumo up`), which
writes reports/conformance-<service>.md with the failures grouped by cause, then writes
reports/conformance.md: per service, tests run / passed / failed / skipped, with the
date and commit. The exit code is the worst of the per-service runs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SERVICES = ("identity", "compute", "image", "network")


def _commit() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
    )
    return done.stdout.strip() or "unknown"


def _row_from_report(service: str) -> str:
    """The summary row of one service, read from the counts table of its report."""
    report = REPO / "reports" / f"conformance-{service}.md"
    lines = report.read_text().splitlines() if report.exists() else []
    date = next((ln.split("|")[2].strip() for ln in lines if ln.startswith("| date |")), "?")
    for index, line in enumerate(lines):
        if line.startswith("| selected | run | passed |"):
            cells = [c.strip() for c in lines[index + 2].strip("|").split("|")]
            selected, _run, passed, failed, skipped, not_run = cells[:6]
            return (
                f"| {service} | {selected} | {passed} | {failed} | {skipped} | {not_run} | "
                f"[details](conformance-{service}.md), run {date} |"
            )
    return f"| {service} | — | — | — | — | — | no report yet |"


def main() -> int:
    """Run every service's suite and write the summary; exit with the worst status."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--services", default=",".join(SERVICES))
    p.add_argument("--concurrency", type=int, default=2)
    p.add_argument(
        "--summary-only",
        action="store_true",
        help="run nothing: summarise the reports/conformance-<service>.md already written",
    )
    args = p.parse_args()
    rows: list[str] = []
    worst = 0
    services = [s.strip() for s in args.services.split(",") if s.strip()]
    if args.summary_only:
        rows = [_row_from_report(service) for service in services]
        services = []
    with tempfile.TemporaryDirectory(prefix="kumo-conformance-") as tmp:
        for service in services:
            out = Path(tmp) / f"{service}.json"
            argv = [sys.executable, str(HERE / "run.py"), "--service", service]
            argv += ["--concurrency", str(args.concurrency), "--json", str(out)]
            print(f"== {service}", flush=True)
            code = subprocess.run(argv, cwd=REPO, check=False).returncode
            worst = max(worst, code)
            if not out.exists():
                rows.append(f"| {service} | — | — | — | — | — | could not run (exit {code}) |")
                continue
            counts = json.loads(out.read_text())["counts"]
            rows.append(
                f"| {service} | {counts['selected']} | {counts['passed']} | "
                f"{counts['failed']} | {counts['skipped']} | "
                f"{counts['not run (class setup failed)']} | [details](conformance-{service}.md) |"
            )
    report = REPO / "reports" / "conformance.md"
    report.parent.mkdir(exist_ok=True)
    report.write_text(
        "\n".join(
            [
                "# Conformance: tempest API tests per service",
                "",
                f"Date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M UTC}; commit `{_commit()}`; "
                "each service against a fresh `kumo up` (`make conformance`).",
                "",
                "| service | tests | passed | failed | skipped | not run (setup failed) | |",
                "|---|---|---|---|---|---|---|",
                *rows,
                "",
            ]
        )
    )
    print(f"Report: {report}")
    return worst


if __name__ == "__main__":
    sys.exit(main())
