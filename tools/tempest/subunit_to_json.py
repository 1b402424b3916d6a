"""Read a subunit v2 stream on stdin; print one JSON list of test results.

Runs with the clients venv's Python (where tempest installs ``subunit`` and
``testtools``); run.py calls it as ``stestr last --subunit | python subunit_to_json.py``.
Each result: ``id``, ``status`` (success, fail, skip, xfail, uxsuccess, inprogress),
``duration`` in seconds, and ``details``: the traceback, the skip ``reason`` and the
captured log (``pythonlogging:''``) as text.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import subunit
import testtools


def _text(content: Any) -> str:
    try:
        return str(content.as_text())
    except Exception:  # binary attachments
        return "<binary attachment>"


def main() -> int:
    """Convert stdin to JSON on stdout."""
    results: list[dict[str, Any]] = []

    def on_test(test: dict[str, Any]) -> None:
        if test["status"] == "exists":  # listed, never started
            return
        start, stop = test["timestamps"]
        duration = (stop - start).total_seconds() if start and stop else None
        results.append(
            {
                "id": test["id"],
                "status": test["status"],
                "duration": duration,
                "details": {name: _text(c) for name, c in test["details"].items()},
            }
        )

    stream = subunit.ByteStreamToStreamResult(sys.stdin.buffer, non_subunit_name="stdout")
    result = testtools.StreamToDict(on_test)
    result.startTestRun()
    try:
        stream.run(result)
    finally:
        result.stopTestRun()
    json.dump(results, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
