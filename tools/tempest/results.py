"""A tempest run's results: counts, failures grouped by cause, expected-pass regressions."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FIXTURE = re.compile(r"^(?P<kind>setUpClass|tearDownClass) \((?P<cls>[\w.]+)\)$")
REQUEST = re.compile(
    r"Request \((?P<who>[^)]*)\): (?P<status>\d{3}) (?P<method>[A-Z]+) (?P<url>\S+)"
)
HEX_ID = re.compile(r"\b[0-9a-f]{32}\b|\b[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}\b")
TEMPEST_NAME = re.compile(r"tempest-[\w.-]*?-?\d{6,}|\b[\w-]*-\d{8,}\b")
FRAME = re.compile(r'\s+File "(?P<file>[^"]+)", line (?P<line>\d+), in (?P<fn>\S+)')
FAILED = {"fail", "uxsuccess", "inprogress"}


def test_name(test_id: str) -> str:
    """A test id without its ``[id-…,smoke]`` attributes."""
    return re.sub(r"\[[^\]]*\]$", "", test_id)


def test_class(test_id: str) -> str:
    """The dotted class of a test id."""
    return test_name(test_id).rsplit(".", 1)[0]


def read_ids(path: Path) -> list[str]:
    """Test ids one per line; blank lines and ``#`` comments are ignored."""
    if not path.exists():
        return []
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line]


def _normalise(text: str) -> str:
    """Take ids and generated names out so that the same cause groups together."""
    return TEMPEST_NAME.sub("<name>", HEX_ID.sub("<id>", text))


def _url_template(url: str) -> str:
    path = re.sub(r"^https?://[^/]+", "", url)
    return _normalise(path.split("?", 1)[0]) + ("?…" if "?" in path else "")


@dataclass
class Cause:
    """Why a test failed: the first line of the error, and the failing request if any."""

    error: str
    request: str = ""
    where: str = ""
    full: str = ""

    @property
    def key(self) -> tuple[str, str]:
        """What groups failures together."""
        return (_normalise(self.error), self.request)


def cause_of(details: dict[str, str], fallback_log: str = "") -> Cause:
    """Read the cause from a failed test's traceback and its log (or ``fallback_log``)."""
    traceback = details.get("traceback", "").rstrip()
    lines = traceback.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("Traceback (most recent")]
    i = starts[-1] + 1 if starts else 0
    where, client = "", ""
    while i < len(lines) and (not lines[i].strip() or lines[i].startswith(" ")):
        frame = FRAME.match(lines[i])
        if frame and "/tempest/api/" in frame["file"]:
            where = f"{frame['file'].split('/tempest/api/', 1)[1]}:{frame['line']} in {frame['fn']}"
        elif frame and "/tempest/lib/services/" in frame["file"]:
            client = f"{frame['file'].rsplit('/', 1)[1]}:{frame['line']} in {frame['fn']}"
        i += 1
    if client:
        where = f"{where}, calling {client}" if where else client
    error_lines = [line for line in lines[i:] if line.strip()] or ["(no traceback)"]
    error = error_lines[0]
    request = ""
    if re.match(r"tempest\.lib\.exceptions\.|keystoneauth1\.exceptions\.", error):
        log = details.get("pythonlogging:''", "") or fallback_log
        failing = [m for m in REQUEST.finditer(log) if int(m["status"]) >= 400]
        if failing:
            last = failing[-1]
            request = f"{last['method']} {_url_template(last['url'])} -> {last['status']}"
    return Cause(error=error, request=request, where=where, full="\n".join(error_lines[:12]))


def log_of(tempest_log: str, test_id: str) -> str:
    """The lines of tempest.log written for one test or class fixture.

    tempest names only the class (not its module) in a log line, so two classes with
    the same name that ran at the same time would mix; the captured log of a test is
    preferred when there is one.
    """
    fixture = FIXTURE.match(test_id)
    if fixture:
        who = f"{fixture['cls'].rsplit('.', 1)[1]}:{fixture['kind']}"
    else:
        cls, method = test_name(test_id).rsplit(".", 2)[1:]
        who = f"{cls}:{method}"
    marker = f"Request ({who})"
    return "\n".join(line for line in tempest_log.splitlines() if marker in line)


@dataclass
class Group:
    """Failures that share a cause."""

    cause: Cause
    tests: list[str] = field(default_factory=list)


@dataclass
class Outcome:
    """Everything the report says about one run."""

    selected: list[str]
    results: list[dict[str, Any]]
    expected: list[str]
    passed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    not_run: list[str] = field(default_factory=list)
    fixture_failures: list[str] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)
    regressions: list[str] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        """run/passed/failed/skipped/not run, in the report's order."""
        return {
            "selected": len(self.selected),
            "run": len(self.passed) + len(self.failed) + len(self.skipped),
            "passed": len(self.passed),
            "failed": len(self.failed),
            "skipped": len(self.skipped),
            "not run (class setup failed)": len(self.not_run),
        }


def analyse(
    selected: Iterable[str],
    results: list[dict[str, Any]],
    expected: Iterable[str],
    tempest_log: str = "",
    known_causes: Mapping[str, str] | None = None,
) -> Outcome:
    """Count, group failures by cause, and find expected-pass tests that did not pass.

    ``known_causes`` maps test names to a cause known beforehand (such as "needs a real
    guest" on the fake driver): their failures are labelled with it, followed by the
    error tempest raised, so that a different failure still shows (and groups) apart.
    """
    known = known_causes or {}
    outcome = Outcome(selected=list(selected), results=results, expected=list(expected))
    groups: dict[tuple[str, str], Group] = {}
    seen: set[str] = set()
    failed_setup: dict[str, Group] = {}
    skipped_classes: dict[str, str] = {}
    for result in sorted(results, key=lambda r: str(r["id"])):
        test_id, status = str(result["id"]), str(result["status"])
        fixture = FIXTURE.match(test_id)
        if status in FAILED:
            cause = cause_of(result["details"], log_of(tempest_log, test_id))
            if not fixture and test_name(test_id) in known:
                error = f"{known[test_name(test_id)]}; tempest saw: {cause.error}"
                cause = Cause(error, cause.request, cause.where, cause.full)
            group = groups.setdefault(cause.key, Group(cause))
            if fixture:
                outcome.fixture_failures.append(test_id)
                if fixture["kind"] == "setUpClass":
                    failed_setup[fixture["cls"]] = group
                else:
                    group.tests.append(test_id)
            else:
                group.tests.append(test_id)
                outcome.failed.append(test_id)
        elif fixture:
            if status == "skip":  # skip_checks: the whole class is skipped
                reason = result["details"].get("reason", "").strip() or "(none)"
                skipped_classes[fixture["cls"]] = reason
            continue
        elif status == "skip":
            outcome.skipped[test_id] = result["details"].get("reason", "").strip() or "(none)"
        elif status in ("success", "xfail"):
            outcome.passed.append(test_id)
        seen.add(test_name(test_id))
    for test_id in outcome.selected:
        if test_name(test_id) in seen:
            continue
        if test_class(test_id) in skipped_classes:
            outcome.skipped[test_id] = skipped_classes[test_class(test_id)]
            continue
        outcome.not_run.append(test_id)
        setup_group = failed_setup.get(test_class(test_id))
        if setup_group is not None:
            setup_group.tests.append(test_id)
    for cls, group in failed_setup.items():
        if not any(test_class(t) == cls for t in group.tests):
            group.tests.append(f"setUpClass ({cls})")
    for group in groups.values():
        group.tests.sort()
    outcome.groups = sorted(groups.values(), key=lambda g: (-len(g.tests), g.cause.error))
    passed = {test_name(t) for t in outcome.passed}
    chosen = {test_name(t) for t in outcome.selected} or seen
    outcome.regressions = sorted(
        t for t in outcome.expected if test_name(t) in chosen and test_name(t) not in passed
    )
    return outcome


def updated_expected(previous: Iterable[str], outcome: Outcome) -> list[str]:
    """The expected-pass list after this run: tests run here take this run's verdict."""
    ran = {test_name(t) for t in outcome.selected} | {
        test_name(str(r["id"])) for r in outcome.results
    }
    kept = [t for t in previous if test_name(t) not in ran]
    return sorted(set(kept) | set(outcome.passed), key=test_name)
