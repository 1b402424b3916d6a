"""A fast, rotating slice of tempest's API tests per service, run the way `make tempest` does.

For each service with a `tools/tempest/fast-<service>.txt` (about one passing test per
tempest class), the slice is that file plus a few tests drawn from
`expected-pass-<service>.txt`, a different draw each day (the seed is the date, printed
on failure, so a failure can be reproduced with `KUMO_TEMPEST_SEED`). Every test of the
slice must pass. The full suites are `make tempest SERVICE=<service>` and
`make conformance`, which write reports/conformance-*.md.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.clients import CLIENTS, REPO, clean_env

TEMPEST = REPO / "tools" / "tempest"
RUN = TEMPEST / "run.py"
SERVICES = sorted(p.stem.removeprefix("fast-") for p in TEMPEST.glob("fast-*.txt"))
#: Tests drawn from the expected-pass list on top of the fixed slice.
ROTATING = 8


def read_ids(path: Path) -> list[str]:
    """Test ids of a list file (comments and blank lines dropped)."""
    if not path.exists():
        return []
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line]


def bare(test_id: str) -> str:
    """A tempest test id without its ``[id-…]`` attributes."""
    return test_id.split("[", 1)[0]


def todays_seed() -> str:
    """The rotation's seed: KUMO_TEMPEST_SEED, else today's date."""
    return os.environ.get("KUMO_TEMPEST_SEED", dt.date.today().isoformat())


def slice_for(service: str, seed: str) -> list[str]:
    """The fixed fast list plus today's draw from the expected-pass list."""
    fixed = read_ids(TEMPEST / f"fast-{service}.txt")
    rest = sorted(set(read_ids(TEMPEST / f"expected-pass-{service}.txt")) - set(fixed))
    drawn = random.Random(f"{service}:{seed}").sample(rest, min(ROTATING, len(rest)))
    return fixed + drawn


@pytest.mark.parametrize("service", SERVICES)
def test_fast_tempest_slice_passes(service: str, tmp_path: Path) -> None:
    if not (CLIENTS / "tempest").exists():
        pytest.fail("tempest is missing: run `make clients` first", pytrace=False)
    seed = todays_seed()
    wanted = slice_for(service, seed)
    assert 10 <= len(wanted) <= 45, "keep each slice at 10-45 tests (it must stay fast)"
    ids = tmp_path / "ids.txt"
    ids.write_text("".join(f"{t}\n" for t in wanted))
    results = tmp_path / "results.json"
    done = subprocess.run(
        [sys.executable, str(RUN), "--service", service, "--ids-file", str(ids),
         "--json", str(results), "--report", str(tmp_path / "report.md")],
        env=clean_env(tmp_path / "home"),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )  # fmt: skip
    assert results.exists(), f"run.py wrote no results:\n{done.stdout}\n{done.stderr}"
    outcome = json.loads(results.read_text())
    passed = {bare(t) for t in outcome["passed"]}
    missing = [t for t in wanted if bare(t) not in passed]
    report = (tmp_path / "report.md").read_text() if (tmp_path / "report.md").exists() else ""
    assert not missing, (
        f"{len(missing)} tempest {service} tests of the slice (seed {seed}) did not pass:\n"
        + "\n".join(missing)
        + f"\n\n{report}\n--- run.py output\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
    )
