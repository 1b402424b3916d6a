"""A fast slice of tempest's identity tests, run the way `make tempest` runs them.

tools/tempest/fast-identity.txt names about one passing test per tempest test class
(tokens, projects, users, domains, roles, groups, grants, catalog, credentials,
application credentials…); every one of them must pass. The full suite is
`make tempest SERVICE=identity`, which writes reports/conformance-identity.md.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.clients import CLIENTS, REPO, clean_env

RUN = REPO / "tools" / "tempest" / "run.py"
FAST = REPO / "tools" / "tempest" / "fast-identity.txt"


def fast_ids() -> list[str]:
    """The slice's test ids (comments and blank lines dropped)."""
    lines = (line.split("#", 1)[0].strip() for line in FAST.read_text().splitlines())
    return [line for line in lines if line]


def bare(test_id: str) -> str:
    """A tempest test id without its ``[id-…]`` attributes."""
    return test_id.split("[", 1)[0]


def test_fast_identity_slice_passes(tmp_path: Path) -> None:
    if not (CLIENTS / "tempest").exists():
        pytest.fail("tempest is missing: run `make clients` first", pytrace=False)
    wanted = fast_ids()
    assert 20 <= len(wanted) <= 30, "keep the slice at 20-30 tests (it must stay fast)"
    results = tmp_path / "results.json"
    done = subprocess.run(
        [sys.executable, str(RUN), "--service", "identity", "--ids-file", str(FAST),
         "--json", str(results), "--report", str(tmp_path / "report.md")],
        env=clean_env(tmp_path / "home"),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )  # fmt: skip
    assert results.exists(), f"run.py wrote no results:\n{done.stdout}\n{done.stderr}"
    outcome = json.loads(results.read_text())
    passed = {bare(t) for t in outcome["passed"]}
    missing = [t for t in wanted if bare(t) not in passed]
    report = (tmp_path / "report.md").read_text() if (tmp_path / "report.md").exists() else ""
    assert not missing, (
        f"{len(missing)} tempest tests of the fast slice did not pass:\n"
        + "\n".join(missing)
        + f"\n\n{report}\n--- run.py output\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
