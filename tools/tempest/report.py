"""reports/conformance-<service>.md: what tempest says about Kumo, for the next fix."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from results import Outcome, test_name

PREFIX = "tempest.api."


@dataclass
class RunInfo:
    """Where and how the run happened."""

    service: str
    date: str
    revision: str
    tempest_version: str
    selection: str
    cloud: str
    duration_s: float
    concurrency: int
    command: str


def short(test_id: str) -> str:
    """A test id without the ``tempest.api.`` prefix and its attributes."""
    return test_name(test_id).removeprefix(PREFIX)


def markdown(info: RunInfo, outcome: Outcome) -> str:
    """The report's text."""
    out = [
        f"# Conformance: {info.service} (tempest {info.tempest_version})",
        "",
        "|  |  |",
        "|---|---|",
        f"| date | {info.date} |",
        f"| revision | `{info.revision}` |",
        f"| tests | `{info.selection}` |",
        f"| cloud | {info.cloud} |",
        f"| concurrency | {info.concurrency} |",
        f"| duration | {info.duration_s:.0f} s |",
        f"| command | `{info.command}` |",
        "",
        "## Counts",
        "",
        "| " + " | ".join(outcome.counts) + " |",
        "|" + "---|" * len(outcome.counts),
        "| " + " | ".join(str(v) for v in outcome.counts.values()) + " |",
        "",
    ]
    if outcome.regressions:
        out += [
            f"## Expected to pass, did not ({len(outcome.regressions)})",
            "",
            *[f"- `{short(t)}`" for t in outcome.regressions],
            "",
        ]
    out += [f"## Failures by cause ({len(outcome.groups)} causes)", ""]
    if not outcome.groups:
        out += ["None.", ""]
    for n, group in enumerate(outcome.groups, 1):
        cause = group.cause
        out += [f"### {n}. {len(group.tests)} tests: `{cause.error[:160]}`", ""]
        if cause.request:
            out.append(f"- failing request: `{cause.request}`")
        if cause.where:
            out.append(f"- raised at: `{cause.where}`")
        out += ["", "```", cause.full, "```", ""]
        out += [f"- `{short(t)}`" for t in group.tests]
        out.append("")
    out += [f"## Skipped ({len(outcome.skipped)})", ""]
    by_reason: dict[str, list[str]] = defaultdict(list)
    for test_id, reason in outcome.skipped.items():
        by_reason[reason].append(test_id)
    if not by_reason:
        out += ["None.", ""]
    for reason, tests in sorted(by_reason.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        out += [f"- {len(tests)} × {reason}:"]
        out += [f"  - `{short(t)}`" for t in sorted(tests)]
    out.append("")
    return "\n".join(out)


def summary(outcome: Outcome) -> str:
    """A few lines for the console."""
    lines = [", ".join(f"{k}: {v}" for k, v in outcome.counts.items())]
    for group in outcome.groups[:15]:
        request = f" [{group.cause.request}]" if group.cause.request else ""
        lines.append(f"  {len(group.tests):4d} × {group.cause.error[:110]}{request}")
    if len(outcome.groups) > 15:
        lines.append(f"  … and {len(outcome.groups) - 15} more causes (see the report)")
    return "\n".join(lines)
