"""What the real-guest tests share: QEMU settings, booting a server, bounded polling.

Every helper takes an ``httpx.Client`` (the in-process ``TestClient`` is one, and
so is a client of a uvicorn-served cloud) and optional per-call ``headers`` (the
in-process tests pass their token on each call; the served ones set it on the
client). Every wait is bounded by a deadline and fails with what it last saw.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from kumo.agents.compute.virt.qemu.accel import Accelerator
from kumo.common.config import Settings
from kumo.guest.image import GuestImage

C = "/compute/v2.1"
#: The Kumo guest's last boot line (its init prints it after the user_data script).
FINISHED = "Cloud-init v. kumo finished at"
#: Boot (or shutdown) deadline for one guest under TCG on a busy machine.
DEADLINE = float(os.environ.get("KUMO_GUEST_BOOT_DEADLINE", "90"))

Headers = Mapping[str, str] | None


def qemu_settings(
    settings: Settings,
    qemu_state: Path,
    guest_image: GuestImage,
    accelerator: Accelerator,
    *,
    sqlite_only: str | None = None,
    **updates: Any,
) -> Settings:
    """The test settings on a short state dir (unix socket paths), with the QEMU driver.

    On SQLite the database moves into the state dir. Another database is kept, or,
    with ``sqlite_only`` (the reason), the test is skipped: one real guest is enough.
    ``updates`` are further settings (they win over the ones made here).
    """
    database_url = settings.database_url
    if (database_url or "").startswith("sqlite"):
        database_url = f"sqlite:///{qemu_state / 'kumo.db'}"
    elif sqlite_only:
        pytest.skip(sqlite_only)
    (qemu_state / "guest").symlink_to(guest_image.directory)
    return settings.model_copy(
        update={
            "state_dir": qemu_state,
            "database_url": database_url,
            "virt_driver": "qemu",
            "qemu_accel": accelerator.name,  # probed once per session by the fixture
            "qemu_shutdown_timeout": 20.0,
            **updates,
        }
    )


def get_server(http: httpx.Client, server_id: str, headers: Headers = None) -> dict[str, Any]:
    """The server's API view (the test fails on anything but 200)."""
    response = http.get(f"{C}/servers/{server_id}", headers=headers)
    assert response.status_code == 200, response.text
    server: dict[str, Any] = response.json()["server"]
    return server


def wait_status(
    http: httpx.Client,
    server_id: str,
    status: str,
    headers: Headers = None,
    *,
    deadline: float = DEADLINE,
    every: float = 0.5,
) -> dict[str, Any]:
    """Poll until the server is ``status`` with no task; fails early on an unwanted ERROR."""
    end = time.monotonic() + deadline
    while True:
        server = get_server(http, server_id, headers)
        if server["status"] == status and server.get("OS-EXT-STS:task_state") is None:
            return server
        if status != "ERROR":
            assert server["status"] != "ERROR", server
        assert time.monotonic() < end, f"not {status} within {deadline:g} s: {server}"
        time.sleep(every)


def console_output(http: httpx.Client, server_id: str, headers: Headers = None) -> str:
    """The server's whole console log (os-getConsoleOutput)."""
    response = http.post(
        f"{C}/servers/{server_id}/action",
        json={"os-getConsoleOutput": {"length": None}},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    return str(response.json()["output"])


def wait_console(
    http: httpx.Client,
    server_id: str,
    text: str,
    headers: Headers = None,
    *,
    count: int = 1,
    deadline: float = DEADLINE,
) -> tuple[str, float]:
    """Poll the console log until ``text`` shows ``count`` times; (console, seconds)."""
    started = time.monotonic()
    console = ""
    while time.monotonic() - started < deadline:
        console = console_output(http, server_id, headers)
        if console.count(text) >= count:
            return console, time.monotonic() - started
        time.sleep(0.5)
    raise AssertionError(f"{text!r} not {count}x within {deadline:g} s:\n{console[-3000:]}")


def boot_server(
    http: httpx.Client,
    name: str,
    image_id: str,
    headers: Headers = None,
    *,
    flavor_id: str = "1",
    networks: Any = "none",
    **extra: Any,
) -> str:
    """Create a server (microversion 2.37: ``networks`` is required); its id."""
    response = http.post(
        f"{C}/servers",
        json={
            "server": {
                "name": name,
                "imageRef": image_id,
                "flavorRef": flavor_id,
                "networks": networks,
                **extra,
            }
        },
        headers={**(headers or {}), "OpenStack-API-Version": "compute 2.37"},
    )
    assert response.status_code == 202, response.text
    return str(response.json()["server"]["id"])


def delete_server(
    http: httpx.Client, server_id: str, headers: Headers = None, *, deadline: float = DEADLINE
) -> None:
    """Delete the server and wait until the API no longer shows it (404)."""
    deleted = http.delete(f"{C}/servers/{server_id}", headers=headers)
    assert deleted.status_code == 204, deleted.text
    end = time.monotonic() + deadline
    while http.get(f"{C}/servers/{server_id}", headers=headers).status_code != 404:
        assert time.monotonic() < end, "server not deleted"
        time.sleep(0.3)


def wait_for(what: str, check: Callable[[], bool], deadline: float, every: float = 0.1) -> float:
    """Poll ``check`` until true; the seconds it took (AssertionError after ``deadline``)."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > deadline:
            raise AssertionError(f"{what}: not within {deadline:g} s")
        time.sleep(every)
    return time.monotonic() - started


def server_action(
    http: httpx.Client,
    server_id: str,
    body: dict[str, Any],
    headers: Headers = None,
    *,
    codes: tuple[int, ...] = (200, 202),
) -> Any:
    """POST a server action; its JSON answer (None when empty). Fails on other codes."""
    response = http.post(f"{C}/servers/{server_id}/action", json=body, headers=headers)
    assert response.status_code in codes, response.text
    return response.json() if response.content else None


def remote_console_url(http: httpx.Client, server_id: str, protocol: str, kind: str) -> str:
    """A new remote console URL for the server (2.6 os-remote-consoles); checks the answer."""
    response = http.post(
        f"{C}/servers/{server_id}/remote-consoles",
        json={"remote_console": {"protocol": protocol, "type": kind}},
        headers={"OpenStack-API-Version": "compute 2.6"},
    )
    assert response.status_code == 200, response.text
    console = response.json()["remote_console"]
    assert (console["protocol"], console["type"]) == (protocol, kind)
    return str(console["url"])
