"""`make chaos`: crash Kumo at every step of the boot journey (and more), check it recovers.

For each scenario a fresh cloud (`kumo up`) is started; the test-only setting
``KUMO_FAULT_INJECTION`` makes the process SIGKILL itself at one point; the
supervisor restarts it; then the server must end ACTIVE or ERROR with a fault,
Placement allocations must match the servers, no port may leak and the database
must pass the consistency check. The fake-driver scenarios kill at every boot
step, delete, snapshot and resize; the real-guest ones (``--virt qemu``,
:mod:`tools.chaos.real_guests`) kill inside the QEMU driver and also check the
host: QEMU processes, instance directories, the base image cache, taps. Also:
power loss during heavy writes, and RabbitMQ / PostgreSQL links cut through a
loopback proxy (the shared servers themselves are never restarted). Writes
``reports/chaos.md``.

    .venv/bin/python tools/chaos/run.py                 # everything (fake and qemu)
    .venv/bin/python tools/chaos/run.py --virt qemu     # only the real-guest scenarios
    .venv/bin/python tools/chaos/run.py --only step_12_scheduler_cast_build power_loss
    .venv/bin/python tools/chaos/run.py --real-restart --only postgresql_real rabbitmq_real
"""

from __future__ import annotations

import argparse
import datetime as dt
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tools.chaos.real_guests import real_guest_scenarios  # noqa: E402
from tools.chaos.scenarios import Result, all_scenarios  # noqa: E402

REPORT = REPO / "reports" / "chaos.md"


def commit() -> str:
    """The checked-out commit (or "unknown")."""
    try:
        out = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        sha = out.stdout.strip() or "unknown"
        # Read-only check (git diff writes nothing): the run may include uncommitted work.
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "diff", "--quiet", "HEAD", "--"], timeout=30, check=False
        )
        return sha + (" + uncommitted changes" if dirty.returncode == 1 else "")
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def report(results: list[Result], path: Path) -> str:
    """The Markdown report of ``results``."""
    passed = sum(r.passed for r in results)
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Crash anywhere (`make chaos`)",
        "",
        f"Made {now} from commit `{commit()}`: **{passed}/{len(results)} scenarios pass.**",
        "",
        "Each scenario runs on a fresh cloud (`kumo up`; the fake virt driver, or real QEMU",
        "guests for the `qemu:` ones). A kill is a SIGKILL of the role process at the named",
        "fault point (`KUMO_FAULT_INJECTION`, tests only); the supervisor restarts it and the",
        "startup reconcile settles what was in flight. Checked after recovery: the server ends",
        "ACTIVE or ERROR with a fault (never stuck), Placement allocations match the servers,",
        "no compute port is leaked, no row names a missing row, and a new server still boots",
        "ACTIVE and deletes cleanly. `qemu:` scenarios also check the host: every ACTIVE server",
        "runs exactly one QEMU process, a SHUTOFF one none; a deleted or ERROR server has no",
        "QEMU process, no instance directory and no tap; the base image cache holds no partial",
        "download; a guest that ran before the kill runs on with the same pid (re-adopted).",
        "",
        "| scenario | result | outcome | problems / notes | seconds |",
        "|---|---|---|---|---|",
    ]
    for r in results:
        detail = "; ".join(r.problems + r.notes)
        lines.append(
            f"| {_cell(r.scenario)} | {'pass' if r.passed else '**FAIL**'} | {_cell(r.outcome)} "
            f"| {_cell(detail)[:700]} | {r.seconds:.0f} |"
        )
    lines += [
        "",
        "How to run: `make chaos` (fake-driver and real-guest scenarios, about 10 min on 2",
        "busy cores); `.venv/bin/python tools/chaos/run.py --virt qemu` for the real-guest",
        "ones only (about 3 min: TCG guests, QEMU and genisoimage from `make debs`);",
        "`make chaos CHAOS_ARGS=--real-restart` adds `postgresql_real` and `rabbitmq_real`,",
        "which restart this machine's real PostgreSQL (`pg_ctlcluster … restart -m fast`) and",
        "RabbitMQ (`rabbitmqctl stop_app`/`start_app`) mid-work and leave both running; the",
        "default `postgresql`/`rabbitmq` scenarios cut Kumo's links through a loopback proxy",
        "instead, which other users of the shared servers never notice.",
        "`tests/chaos/test_real_guest_crash.py` (in `make test`) is the fast slice: one real",
        "guest killed at `qemu_guest_started`.",
        "",
        "Fixed with the real-guest scenarios: (1) a base image download cut by the kill",
        "stayed in `_base/` as `.<id>.part` (nothing removed it unless the same image was",
        "fetched again); the QEMU driver's `init_host` now removes it, and any instance",
        "directory without `instance.json` (the reconcile removes those only where it runs",
        "its state pass), unless the running agent holds their lock. (2) An interrupted stop",
        "ended ACTIVE with its guest running, and an interrupted reboot never rebooted (first",
        "run: both `ACTIVE (same pid)`, one boot); the startup reconcile now finishes them as",
        "Nova's `_init_instance` does: stop again, start again, reboot hard. (3) Found by",
        "reading the same code and tested with the fake driver (`tests/chaos/`",
        "`test_reconcile.py`): a guest whose server was deleted while its agent was away kept",
        "running forever; the power-state sync now destroys it (Nova's",
        "`running_deleted_instance_action = reap`).",
        "",
        "PostgreSQL restarts: every request now gets an answer (503 with Retry-After while",
        "the database is away, never a 500). Before, each 503 raised outside a database",
        "session went through Starlette's catch-all handler, which re-raises after answering:",
        'uvicorn logged "Exception in ASGI application" and closed the client\'s keep-alive',
        "connection, so its next request failed with a reset (hundreds of `ReadError`s per",
        "run); the database's own errors now have handlers of their own (`kumo/common/web.py`).",
        "Every port answered 201 during the restart exists once, with its MAC and fixed IP.",
        'The "boot after recovery ended ERROR" of the last report was the scenario\'s own',
        "writers filling the port quota (409 OverQuota); it now frees them before that boot.",
        "",
        "Not covered yet: volume attachments (no volume service); network namespaces per",
        "server (there are none: DHCP/router namespaces belong to networks and routers); and",
        "the state reconcile of split roles on RabbitMQ (it runs only when the restarted",
        "process held every piece, i.e. role `all` on the in-process bus; leftovers of",
        "deleted servers are freed always).",
        "",
    ]
    text = "\n".join(lines)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return text


def main(argv: list[str] | None = None) -> int:
    """Run the scenarios, write the report; exit 1 when one fails."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="scenario names (fault points or power_loss…)")
    parser.add_argument(
        "--virt",
        choices=("all", "fake", "qemu"),
        default="all",
        help="fake: the fake-driver scenarios (and broker/database/power loss); "
        "qemu: the real-guest ones; all: both",
    )
    parser.add_argument(
        "--real-restart",
        action="store_true",
        help="also restart this machine's real PostgreSQL and RabbitMQ servers "
        "(scenarios postgresql_real, rabbitmq_real; both are left running)",
    )
    parser.add_argument("--report", type=Path, default=REPORT)
    args = parser.parse_args(argv)
    known = (all_scenarios(args.real_restart) if args.virt != "qemu" else []) + (
        real_guest_scenarios() if args.virt != "fake" else []
    )
    chosen = [(n, f) for n, f in known if not args.only or n in args.only]
    if not chosen:
        parser.error(f"no scenario named {args.only}; known: {[n for n, _ in known]}")
    results = []
    for name, scenario in chosen:
        print(f"chaos: {name} …", flush=True)
        result = scenario()
        results.append(result)
        verdict = "pass" if result.passed else "FAIL: " + "; ".join(result.problems)
        print(f"chaos: {name}: {result.outcome} — {verdict} ({result.seconds:.0f}s)", flush=True)
    report(results, args.report)
    print(f"chaos: {sum(r.passed for r in results)}/{len(results)} pass; see {args.report}")
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
