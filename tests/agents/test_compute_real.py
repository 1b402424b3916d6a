"""Real guests through the whole API: the compute agent on the QEMU driver, in process.

The ``cloud`` app runs the scheduler, conductor and compute agent in its own
event loop (``virt_driver = "qemu"``); servers are booted, stopped, started and
deleted through ``/compute/v2.1``, and each step is checked in the guest itself
(its serial console, its QEMU process) as well as in the API. One guest: TCG
on a loaded 2-core machine is slow.
"""

from __future__ import annotations

import base64
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kumo.agents.compute.virt.qemu import process
from kumo.agents.compute.virt.qemu.accel import Accelerator
from kumo.common.config import Settings
from kumo.compute.service.flavors import bootstrap_flavors
from kumo.guest.image import GuestImage
from kumo.guest.register import GUEST_IMAGE_ID, register_guest_image
from kumo.identity.service.core import Identity
from tests.agents.guestlib import (
    FINISHED,
    C,
    boot_server,
    delete_server,
    qemu_settings,
    server_action,
    wait_console,
    wait_status,
)
from tests.conftest import issue

pytestmark = pytest.mark.guest


@pytest.fixture
def settings(
    settings: Settings, qemu_state: Path, guest_image: GuestImage, accelerator: Accelerator
) -> Settings:
    """The test settings on a short state dir (unix socket paths), with the QEMU driver."""
    return qemu_settings(
        settings, qemu_state, guest_image, accelerator, sync_power_state_interval=1.0
    )


@pytest.fixture
def real_cloud(cloud: TestClient, ident: Identity, guest_image: GuestImage) -> Iterator[TestClient]:
    """The cloud with devstack's flavors and the ``kumo-guest`` image registered."""
    bootstrap_flavors(ident.db)
    assert register_guest_image(ident.settings, ident.db, guest_image) == GUEST_IMAGE_ID
    yield cloud


def _get(client: TestClient, token: str, path: str, mv: str = "2.1") -> dict[str, Any]:
    response = client.get(
        C + path, headers={"X-Auth-Token": token, "OpenStack-API-Version": f"compute {mv}"}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _action(client: TestClient, token: str, server_id: str, body: dict[str, Any]) -> Any:
    return server_action(client, server_id, body, {"X-Auth-Token": token})


def _wait_status(client: TestClient, token: str, server_id: str, status: str) -> dict[str, Any]:
    return wait_status(client, server_id, status, {"X-Auth-Token": token})


def _wait_console(
    client: TestClient, token: str, server_id: str, text: str, count: int = 1
) -> tuple[str, float]:
    """Poll os-getConsoleOutput until ``text`` shows ``count`` times; (console, seconds)."""
    return wait_console(client, server_id, text, {"X-Auth-Token": token}, count=count)


def _public_key(directory: Path) -> str:
    key = directory / "k"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "real@kumo", "-f", str(key)],
        check=True,
    )
    return (directory / "k.pub").read_text().strip()


def test_server_is_a_real_guest_through_its_life(
    real_cloud: TestClient, settings: Settings, tmp_path: Path
) -> None:
    client = real_cloud
    token = issue(client)
    marker = f"KUMO-MARKER-{uuid.uuid4().hex[:8]}"
    key_name = f"key-{uuid.uuid4().hex[:6]}"
    created = client.post(
        f"{C}/os-keypairs",
        json={"keypair": {"name": key_name, "public_key": _public_key(tmp_path)}},
        headers={"X-Auth-Token": token},
    )
    assert created.status_code in (200, 201), created.text
    name = f"real-{uuid.uuid4().hex[:6]}"
    user_data = f'#!/bin/sh\necho "{marker} on $(hostname)"\n'
    started = time.monotonic()
    server_id = boot_server(
        client,
        name,
        GUEST_IMAGE_ID,
        {"X-Auth-Token": token},
        key_name=key_name,
        user_data=base64.b64encode(user_data.encode()).decode(),
        metadata={"purpose": "real-guest-test"},
    )
    _wait_status(client, token, server_id, "ACTIVE")
    console, _ = _wait_console(client, token, server_id, FINISHED)
    boot_seconds = time.monotonic() - started
    print(f"\nserver create -> finished line: {boot_seconds:.1f} s")
    assert "Kumo guest" in console  # the boot banner
    assert f"kumo-init: hostname {name}" in console
    assert f"{marker} on {name}" in console
    assert "root has 1 authorized key(s)" in console
    assert "Datasource DataSourceConfigDrive" in console

    # The hypervisor is QEMU, with the accelerator the probe chose.
    hypervisors = _get(client, token, "/os-hypervisors/detail", "2.28")["hypervisors"]
    assert [h["hypervisor_type"] for h in hypervisors] == ["QEMU"]
    assert hypervisors[0]["cpu_info"]["accelerator"] in ("kvm", "tcg")

    # The guest is a QEMU process with its own directory under the state dir.
    instance_dir = settings.state_dir.resolve() / "instances" / server_id
    pid = int((instance_dir / "qemu.pid").read_text())
    assert process.is_guest(pid, server_id, instance_dir / "qemu.pid")

    # stop: SHUTOFF, and the QEMU process is gone (the guest saw the power button).
    _action(client, token, server_id, {"os-stop": None})
    server = _wait_status(client, token, server_id, "SHUTOFF")
    assert server["OS-EXT-STS:power_state"] == 4
    assert not process.alive(pid)
    assert not (instance_dir / "qemu.pid").exists()

    # start: ACTIVE, and the console shows a second boot (user_data ran only once).
    _action(client, token, server_id, {"os-start": None})
    _wait_status(client, token, server_id, "ACTIVE")
    console, _ = _wait_console(client, token, server_id, FINISHED, count=2)
    assert console.count(f"{marker} on {name}") == 1
    pid = int((instance_dir / "qemu.pid").read_text())
    assert process.is_guest(pid, server_id, instance_dir / "qemu.pid")

    # A guest shut down from inside (here: its QEMU killed) is synced to SHUTOFF.
    process.kill(pid)
    _wait_status(client, token, server_id, "SHUTOFF")
    _action(client, token, server_id, {"os-start": None})
    _wait_status(client, token, server_id, "ACTIVE")
    pid = int((instance_dir / "qemu.pid").read_text())

    # delete: process gone, instance dir gone, allocation freed.
    delete_server(client, server_id, {"X-Auth-Token": token})
    assert not process.alive(pid)
    assert not instance_dir.exists()
    allocations = client.get(f"/placement/allocations/{server_id}", headers={"X-Auth-Token": token})
    assert allocations.status_code == 200, allocations.text
    assert allocations.json()["allocations"] == {}
