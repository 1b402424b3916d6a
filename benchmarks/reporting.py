"""What every benchmark report says about where and when it ran, and how it is written."""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
REPORTS = REPO / "reports"
# Taken when the benchmark starts, before its own load counts: other work on the
# machine (a test suite, a build) skews every figure, so the report shows it.
LOAD_AT_START = os.getloadavg()


def git_revision() -> str:
    """``git rev-parse HEAD`` of the work tree, or why it is not known."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown (git not available)"
    if done.returncode != 0:
        return "unknown (no commit yet)"
    # Figures from a tree that differs from the commit must say so.
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    dirty = " + uncommitted changes" if status.stdout.strip() else ""
    return done.stdout.strip() + dirty


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def machine_facts() -> list[tuple[str, str]]:
    """Date, revision and machine, as (name, value) rows."""
    return [
        ("date", dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")),
        ("revision", git_revision()),
        ("cores", str(os.cpu_count())),
        ("cpu", _cpu_model()),
        ("memory", _memory_gib()),
        ("python (benchmark client)", platform.python_version()),
        ("kernel", platform.release()),
        ("load average at start (1, 5, 15 min)", ", ".join(f"{x:.2f}" for x in LOAD_AT_START)),
    ]


def busy_warning() -> str | None:
    """A warning when other work is loading the machine, which skews every figure."""
    load = LOAD_AT_START[0]
    cores = os.cpu_count() or 1
    if load < 0.5 * cores:
        return None
    return (
        f"the machine is busy (1-minute load {load:.1f} on {cores} cores): figures will be "
        "low and noisy; rerun when it is idle"
    )


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A GitHub-flavoured Markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def write_report(name: str, title: str, sections: Sequence[tuple[str, str]]) -> Path:
    """Write ``reports/<name>`` with the machine facts first; return its path."""
    REPORTS.mkdir(exist_ok=True)
    parts = [f"# {title}", "", markdown_table(["", ""], machine_facts())]
    for heading, body in sections:
        parts += ["", f"## {heading}", "", body.rstrip()]
    path = REPORTS / name
    path.write_text("\n".join(parts) + "\n")
    return path


def ratio(ours: float | None, theirs: float | None) -> float | None:
    """ours / theirs, or None when either side is missing or theirs is zero."""
    if ours is None or theirs is None or theirs == 0:
        return None
    return ours / theirs


def fmt(value: float | None, digits: int = 1) -> str:
    """A number for a table, or an em dash when it is missing."""
    return "—" if value is None else f"{value:,.{digits}f}"


def fmt_ratio(value: float | None) -> str:
    """A ratio as ``12.34x``, or below 1 as ``0.0123x (1/81)``; a dash when missing."""
    if value is None:
        return "—"
    if value >= 1:
        return f"{value:,.2f}x"
    if value == 0:
        return "0x"
    inverse = 1 / value
    return (
        f"{value:.3g}x (1/{inverse:,.0f})" if inverse >= 10 else f"{value:.3g}x (1/{inverse:.1f})"
    )
