"""A real cloud (`kumo up`) killed at boot steps 12 and 28 recovers (the slice of `make chaos`).

The process SIGKILLs itself at the test-only fault point, the supervisor
restarts it, and the startup reconcile must leave each server in ERROR with a
fault, its allocation and ports freed, the database consistent, and the cloud
able to boot a new server.
"""

from __future__ import annotations

import contextlib
import secrets
import time

import httpx
import pytest

from kumo.compute.reconcile import INTERRUPTED
from tools.chaos.harness import Api, start, wait_for
from tools.chaos.scenarios import settle_consistency
from tools.tempest.cloud import KUMO

POINTS = ("step_12_scheduler_cast_build", "step_28_compute_spawn_guest")

pytestmark = pytest.mark.skipif(not KUMO.exists(), reason="needs the venv's `kumo` command")


def test_kills_at_step_12_and_step_28_end_in_error_with_nothing_leaked() -> None:
    cloud = start({"KUMO_FAULT_INJECTION": ",".join(f"{p}:kill" for p in POINTS)})
    api = Api(cloud)
    try:
        api.wait_healthy()
        api.login()
        for point in POINTS:  # each point fires once: the second boot passes step 12
            name = f"crash-{secrets.token_hex(3)}"
            with contextlib.suppress(httpx.HTTPError):
                api.create_server(name)
            wait_for(f"{point} to fire", lambda p=point: cloud.fired(p), 60)  # type: ignore[misc]
            time.sleep(1.0)
            api.wait_healthy(120)
            api.login()
            found = api.find_server(name)
            assert found is not None, f"the server killed at {point} was never written"
            server = api.settled(found["id"], 90)
            assert server is not None
            assert server["status"] == "ERROR", (point, server["status"])
            assert server["fault"]["message"].startswith(INTERRUPTED), server["fault"]
        assert settle_consistency(cloud.database_url()) == []

        r = api.create_server("after-the-crashes")
        assert r.status_code == 202, r.text
        after = api.settled(r.json()["server"]["id"], 90)
        assert after is not None and after["status"] == "ACTIVE", after
        assert settle_consistency(cloud.database_url()) == []
    finally:
        api.close()
        cloud.stop()
