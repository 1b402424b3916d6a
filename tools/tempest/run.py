#!/usr/bin/env python3
"""Run tempest's API tests for one service against Kumo and write the conformance report.

    make tempest SERVICE=identity      # = .venv/bin/python tools/tempest/run.py --service identity
    .venv/bin/python tools/tempest/run.py --service identity --regex test_domains
    .venv/bin/python tools/tempest/run.py --service identity --ids-file F   # ids one per line
    .venv/bin/python tools/tempest/run.py --service identity --state-dir ~/.local/state/kumo
    .venv/bin/python tools/tempest/run.py --service identity --update-expected
    .venv/bin/python tools/tempest/run.py --service compute --virt qemu \
        --ids-file tools/tempest/qemu-compute.txt --concurrency 1   # the real-guest slice

Without --state-dir or --os-cloud it starts a fresh cloud (`kumo up` in a temporary
state directory on a free port, the fake virt driver unless --virt qemu) and purges
it afterwards. tempest itself comes from
.venv-clients (`make clients`); its workspace is made by `tempest init` in a temporary
directory, with a tempest.conf generated from the running cloud.

A full run writes reports/conformance-<service>.md. The exit code is 1 when a test of
tools/tempest/expected-pass-<service>.txt (-qemu.txt with --virt qemu) did not pass,
2 when tempest could not run. On the fake driver, the tests that qemu-<service>.txt
notes as needing a real guest (a VNC server behind the console proxy) still run;
their failures are labelled with that cause in the report.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import cloud as clouds
import report
import results
import tempest_conf

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
CLIENTS = REPO / ".venv-clients" / "bin"
#: In qemu-<service>.txt, a test the fake virt driver cannot pass says why after this.
FAKE_DRIVER_NOTE = "# fake driver:"


class RunError(RuntimeError):
    """tempest could not be set up or run."""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--service", required=True, choices=sorted(tempest_conf.SERVICES))
    p.add_argument("--regex", help="only tests whose id matches this regex (re.search)")
    p.add_argument("--ids-file", type=Path, help="only these test ids (one per line)")
    p.add_argument("--state-dir", type=Path, help="use the running cloud of this state dir")
    p.add_argument("--os-cloud", help="use this running cloud from clouds.yaml")
    p.add_argument(
        "--virt",
        choices=sorted(clouds.VIRT_SETTINGS),
        default="fake",
        help="the cloud's virt driver: a fresh cloud is started with it (qemu: real q35 "
        "guests booting kumo-guest); for a running cloud, say which one it runs",
    )
    p.add_argument("--keep", action="store_true", help="keep the workspace and the cloud")
    p.add_argument("--concurrency", type=int, default=2)
    p.add_argument(
        "--report",
        type=Path,
        help="markdown report (default for a full run: reports/conformance-<service>.md)",
    )
    p.add_argument("--json", type=Path, help="also write the results as JSON here")
    p.add_argument(
        "--expected",
        type=Path,
        help="expected-pass list (default tools/tempest/expected-pass-<service>.txt, "
        "expected-pass-<service>-qemu.txt with --virt qemu)",
    )
    p.add_argument(
        "--update-expected",
        action="store_true",
        help="rewrite the expected-pass list from this run's passing tests",
    )
    p.add_argument("--timeout", type=int, default=3600, help="seconds tempest may run")
    return p


def _env(home: Path) -> dict[str, str]:
    """tempest's environment: the clients venv first, a private HOME, no OS_* variables."""
    env = clouds.client_env()
    env |= {
        "HOME": str(home),
        "PATH": f"{CLIENTS}{os.pathsep}{env.get('PATH', '')}",
        "PYTHON": str(CLIENTS / "python"),  # stestr's workers run ${PYTHON:-python}
        "OS_TEST_TIMEOUT": "300",  # no single test may hang the run
    }
    env.pop("VIRTUAL_ENV", None)
    return env


def _run(argv: list[str], cwd: Path, env: dict[str, str], timeout: int = 120) -> str:
    done = subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise RunError(
            f"`{shlex.join(argv)}` failed ({done.returncode}):\n"
            f"{done.stdout[-3000:]}{done.stderr[-3000:]}"
        )
    return done.stdout


def _selection(args: argparse.Namespace, workspace: Path) -> tuple[list[str], str]:
    """tempest's selection arguments and a description of them for the report."""
    service_regex = tempest_conf.SERVICES[args.service]["regex"]
    if args.ids_file:
        ids = [i for i in results.read_ids(args.ids_file) if re.search(service_regex, i)]
        if args.regex:
            ids = [i for i in ids if re.search(args.regex, i)]
        if not ids:
            raise RunError(f"{args.ids_file} names no {args.service} test")
        include = workspace / "include-list.txt"
        include.write_text(
            "".join(f"^{re.escape(results.test_name(i))}(\\[.*\\])?$\n" for i in ids)
        )
        return ["--include-list", str(include)], f"{len(ids)} tests from {args.ids_file}"
    regex = service_regex if not args.regex else f"(?={service_regex}).*({args.regex})"
    return ["--regex", regex], regex


def _tempest_version() -> str:
    found = sorted(CLIENTS.parent.glob("lib/python*/site-packages/tempest-*.dist-info"))
    return found[-1].name.removeprefix("tempest-").removesuffix(".dist-info") if found else "?"


def _revision() -> str:
    def git(*argv: str) -> str:
        done = subprocess.run(
            ["git", "--no-optional-locks", *argv],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=False,
        )
        return done.stdout.strip() if done.returncode == 0 else ""

    head = git("rev-parse", "HEAD") or "unknown (no commit)"
    changed = len(git("status", "--porcelain", "--untracked-files=no").splitlines())
    return head + (f" + {changed} uncommitted changed files" if changed else "")


def _stream(argv: list[str], cwd: Path, env: dict[str, str], log: Path, timeout: int) -> int:
    """Run tempest, showing its per-test lines as they come (they are the progress)."""
    with (
        log.open("w") as out,
        subprocess.Popen(
            argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        ) as proc,
    ):
        killer = threading.Timer(timeout, proc.kill)
        killer.start()
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                out.write(line)
                if re.match(r"\{\d+\} |Ran: |Passed: |Failed: |Skipped: ", line):
                    print(line, end="", flush=True)
        finally:
            killer.cancel()
        if proc.wait() < 0:
            raise RunError(f"tempest was stopped after {timeout} s; see {log}")
        return proc.wait()


def run(args: argparse.Namespace) -> int:
    """Start or find the cloud, run tempest, report; the exit code as documented above."""
    for tool in ("tempest", "stestr", "python"):
        if not (CLIENTS / tool).exists():
            raise RunError(f"{CLIENTS / tool} is missing: run `make clients` first")
    flavour = "" if args.virt == "fake" else f"-{args.virt}"
    expected_file = args.expected or HERE / f"expected-pass-{args.service}{flavour}.txt"
    full_run = not (args.regex or args.ids_file)
    report_file = args.report or (
        REPO / "reports" / f"conformance-{args.service}.md" if full_run else None
    )
    started = time.monotonic()
    if args.state_dir or args.os_cloud:
        cloud = clouds.existing(args.state_dir, args.os_cloud)
        cloud_desc = f"running cloud at {cloud.access.auth_url}"
    else:
        print("Starting a fresh cloud (kumo up)…", flush=True)
        cloud = clouds.start_fresh(virt=args.virt)
        cloud_desc = "fresh `kumo up` in a temporary state directory"
    cloud_desc += f", virt driver {args.virt}"
    scratch = Path(tempfile.mkdtemp(prefix=f"kumo-tempest-{args.service}-"))
    workspace = scratch / "workspace"
    try:
        env = _env(scratch / "home")
        (scratch / "home").mkdir()
        _run(
            [
                str(CLIENTS / "tempest"),
                "init",
                "--workspace-path",
                str(scratch / "home" / "workspace.yaml"),
                str(workspace),
            ],
            scratch,
            env,
        )
        facts = tempest_conf.discover(cloud.access)
        conf = workspace / "etc" / "tempest.conf"
        conf.write_text(
            tempest_conf.render(
                args.service, cloud.access, facts, workspace, real_guests=args.virt != "fake"
            )
        )
        selection, selection_desc = _selection(args, workspace)
        base = [str(CLIENTS / "tempest"), "run", "--config-file", str(conf), *selection]
        listed = _run([*base, "--list-tests"], workspace, env)
        selected = [line.strip() for line in listed.splitlines() if line.startswith("tempest.")]
        if not selected:
            raise RunError(f"no test matches {selection_desc}")
        print(
            f"Running {len(selected)} tempest tests against {facts.uri_v3} (workspace {workspace})",
            flush=True,
        )
        command = [*base, "--concurrency", str(args.concurrency)]
        _stream(command, workspace, env, workspace / "logs" / "run.txt", args.timeout)
        parsed = _parse_subunit(workspace, env)
        tempest_log = workspace / "logs" / "tempest.log"
        outcome = results.analyse(
            selected,
            parsed,
            results.read_ids(expected_file),
            tempest_log.read_text(errors="replace") if tempest_log.exists() else "",
            _known_causes(args.service, args.virt),
        )
        info = report.RunInfo(
            service=args.service,
            date=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
            revision=_revision(),
            tempest_version=_tempest_version(),
            selection=selection_desc,
            cloud=cloud_desc,
            duration_s=time.monotonic() - started,
            concurrency=args.concurrency,
            command="tools/tempest/run.py " + shlex.join(sys.argv[1:]),
        )
        print(report.summary(outcome))
        if report_file:
            report_file.parent.mkdir(parents=True, exist_ok=True)
            report_file.write_text(report.markdown(info, outcome))
            print(f"Report: {report_file}")
        if args.json:
            args.json.write_text(json.dumps(_as_json(outcome), indent=1))
        if args.update_expected:
            ids = results.updated_expected(results.read_ids(expected_file), outcome)
            expected_file.write_text(
                f"# tempest {args.service} tests that pass on Kumo; written by "
                "tools/tempest/run.py --update-expected\n" + "".join(f"{i}\n" for i in ids)
            )
            print(f"Expected-pass list: {expected_file} ({len(ids)} tests)")
            return 0
        if outcome.regressions:
            print(f"{len(outcome.regressions)} tests of {expected_file.name} did not pass:")
            for test_id in outcome.regressions:
                print(f"  {report.short(test_id)}")
            return 1
        return 0
    finally:
        if args.keep:
            print(f"Kept the workspace {workspace}")
            if cloud.started_here:
                print(
                    f"Kept the cloud: stop it with KUMO_STATE_DIR={cloud.state_dir} "
                    f"{clouds.KUMO} down --purge"
                )
        else:
            cloud.stop()
            shutil.rmtree(scratch, ignore_errors=True)


def _known_causes(service: str, virt: str) -> dict[str, str]:
    """On the fake driver: the real-guest slice's tests it cannot pass, and why.

    They are the lines of ``qemu-<service>.txt`` with a ``# fake driver: <why>`` note.
    """
    slice_file = HERE / f"qemu-{service}.txt"
    if virt != "fake" or not slice_file.exists():
        return {}
    known = {}
    for line in slice_file.read_text().splitlines():
        test_id, note, why = line.partition(FAKE_DRIVER_NOTE)
        if note and test_id.strip() and not test_id.lstrip().startswith("#"):
            # Short: the report's heading shows 160 characters, tempest's error follows.
            known[results.test_name(test_id.strip())] = (
                f"needs a real guest ({slice_file.name}): {why.strip()}"
            )
    return known


def _parse_subunit(workspace: Path, env: dict[str, str]) -> list[dict[str, Any]]:
    """`stestr last --subunit`, read by subunit_to_json.py in the clients venv."""
    last = subprocess.run(
        [str(CLIENTS / "stestr"), "last", "--subunit"],
        cwd=workspace,
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    if not last.stdout:
        raise RunError(f"`stestr last --subunit` gave nothing: {last.stderr.decode()[-2000:]}")
    parsed = subprocess.run(
        [str(CLIENTS / "python"), str(HERE / "subunit_to_json.py")],
        input=last.stdout,
        cwd=workspace,
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    if parsed.returncode != 0:
        raise RunError(f"reading the subunit stream failed: {parsed.stderr.decode()[-2000:]}")
    data: list[dict[str, Any]] = json.loads(parsed.stdout)
    return data


def _as_json(outcome: results.Outcome) -> dict[str, Any]:
    return {
        "counts": outcome.counts,
        "passed": outcome.passed,
        "failed": outcome.failed,
        "skipped": outcome.skipped,
        "not_run": outcome.not_run,
        "regressions": outcome.regressions,
        "causes": [
            {
                "error": g.cause.error,
                "request": g.cause.request,
                "full": g.cause.full,
                "tests": g.tests,
            }
            for g in outcome.groups
        ],
    }


def main() -> int:
    """Entry point; errors that stop the run print what to do and exit 2."""
    args = _parser().parse_args()
    try:
        return run(args)
    except (RunError, clouds.CloudError) as exc:
        print(f"tempest run failed before results: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
