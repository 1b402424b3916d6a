"""Fixtures of the servers tests: a cloud whose scheduler and compute host are fakes.

The servers API hands work to ``app.state.compute_rpc`` (Helper J's
``ComputeAPI``). :class:`FakeComputeRPC` stands in for it: it records every
call and, unless told to hold, moves the instance on through the servers
service functions as the real control plane would (BUILD → ACTIVE, stop →
SHUTOFF, …). Images are looked up in :data:`IMAGES` instead of the image API.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from kumo.common.context import RequestContext
from kumo.common.db import Database
from kumo.common.errors import NotFound
from kumo.common.web import root_app
from kumo.compute import journey, states
from kumo.compute.api.app import create_app as create_compute_app
from kumo.compute.service import flavors, hosts, instance_actions
from kumo.compute.service import servers as servers_service
from kumo.identity.api.app import create_app as create_identity_app
from kumo.identity.api.deps import local_authenticator
from kumo.identity.service.core import Identity
from tests.conftest import issue

C = "/compute/v2.1"
FAKE_HOST = "fake-host-1"
FAKE_NODE = "fake-node-1"
#: A bootable image, a queued (not active) image.
CIRROS = "5c3d1f8e-1111-4c8e-9a6b-000000000001"
QUEUED = "5c3d1f8e-2222-4c8e-9a6b-000000000002"
BIG_RAM = "5c3d1f8e-3333-4c8e-9a6b-000000000003"
BIG_DISK = "5c3d1f8e-4444-4c8e-9a6b-000000000004"
IMAGES: dict[str, dict[str, Any]] = {
    CIRROS: {"id": CIRROS, "status": "active", "name": "cirros"},
    QUEUED: {"id": QUEUED, "status": "queued", "name": "empty"},
    #: needs more memory (min_ram) than flavor 1 (m1.tiny, 512 MB) has.
    BIG_RAM: {"id": BIG_RAM, "status": "active", "name": "big-ram", "min_ram": 513},
    #: needs more disk (min_disk) than flavor 1 (1 GB) has.
    BIG_DISK: {"id": BIG_DISK, "status": "active", "name": "big-disk", "min_disk": 2},
}

#: What each host-side action leaves behind: (vm_state, power_state).
OUTCOMES: dict[str, tuple[str, int]] = {
    "stop": (states.STOPPED, states.SHUTDOWN),
    "start": (states.ACTIVE, states.RUNNING),
    "reboot": (states.ACTIVE, states.RUNNING),
    "pause": (states.PAUSED, states.PAUSED_POWER),
    "unpause": (states.ACTIVE, states.RUNNING),
    "suspend": (states.SUSPENDED, states.SUSPENDED_POWER),
    "resume": (states.ACTIVE, states.RUNNING),
    "rebuild": (states.ACTIVE, states.RUNNING),
    "resize": (states.RESIZED, states.RUNNING),
    "migrate": (states.RESIZED, states.RUNNING),
    "confirm_resize": (states.ACTIVE, states.RUNNING),
    "revert_resize": (states.ACTIVE, states.RUNNING),
    "rescue": (states.RESCUED, states.RUNNING),
    "unrescue": (states.ACTIVE, states.RUNNING),
    "shelve": (states.SHELVED, states.SHUTDOWN),
    "shelve_offload": (states.SHELVED_OFFLOADED, states.SHUTDOWN),
    "unshelve": (states.ACTIVE, states.RUNNING),
    "evacuate": (states.ACTIVE, states.RUNNING),
}


@dataclass
class FakeComputeRPC:
    """Records the API's hand-overs; completes them at once unless ``hold`` is set."""

    db: Database
    hold: bool = False
    no_valid_host: bool = False
    builds: list[list[str]] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)

    async def schedule_and_build(
        self, ctx: RequestContext, instance_uuids: list[str], request_id: str
    ) -> None:
        self.builds.append(list(instance_uuids))
        if self.hold:
            return
        with self.db.writer() as s:
            for n, uuid_ in enumerate(instance_uuids):
                for step in ("9-11", "12", "13", "28"):
                    name = journey.event_name(step)
                    instance_actions.event_start(s, uuid_, request_id, name, FAKE_HOST)
                    failed = self.no_valid_host and step == "9-11"
                    instance_actions.event_finish(
                        s,
                        uuid_,
                        request_id,
                        name,
                        result="Error" if failed else "Success",
                        traceback="NoValidHost: fake" if failed else None,
                    )
                    if failed:
                        break
                if self.no_valid_host:
                    servers_service.set_state(
                        s,
                        uuid_,
                        vm_state=states.ERROR,
                        task_state=None,
                        expected_task_state=states.SCHEDULING,
                    )
                    servers_service.set_fault(
                        s, uuid_, 500, "No valid host was found. ", "NoValidHost traceback"
                    )
                    continue
                servers_service.set_state(
                    s,
                    uuid_,
                    vm_state=states.ACTIVE,
                    task_state=None,
                    power_state=states.RUNNING,
                    host=FAKE_HOST,
                    node=FAKE_NODE,
                    expected_task_state=states.SCHEDULING,
                    availability_zone="nova",
                    network_info={
                        "private": [
                            {
                                "addr": f"10.0.0.{10 + n}",
                                "version": 4,
                                "OS-EXT-IPS:type": "fixed",
                                "OS-EXT-IPS-MAC:mac_addr": "fa:16:3e:00:00:01",
                            }
                        ]
                    },
                )

    async def run_action(
        self,
        ctx: RequestContext,
        host: str | None,
        instance_uuid: str,
        action: str,
        request_id: str,
        **params: Any,
    ) -> str | None:
        self.actions.append(
            {
                "host": host,
                "uuid": instance_uuid,
                "action": action,
                "params": params,
                "request_id": request_id,
            }
        )
        if action == "get_console_output":
            return "login: cirros\n" * 3
        if self.hold:
            return None
        with self.db.writer() as s:
            if action == "delete":
                servers_service.set_state(
                    s, instance_uuid, vm_state=states.DELETED, task_state=None
                )
                return None
            if action in ("snapshot", "backup"):
                servers_service.set_state(s, instance_uuid, task_state=None)
                return None
            vm_state, power = OUTCOMES[action]
            extra: dict[str, Any] = {}
            if action == "shelve_offload":
                extra = {"host": None, "node": None}
            servers_service.set_state(
                s, instance_uuid, vm_state=vm_state, task_state=None, power_state=power, **extra
            )
        return None


async def fake_image_lookup(ctx: RequestContext, image_id: str) -> dict[str, Any]:
    """The image API, reduced to :data:`IMAGES`."""
    if image_id not in IMAGES:
        raise NotFound(f"No image found with ID {image_id}")
    return IMAGES[image_id]


class FakeImageStore:
    """The image API's records of snapshots and backups, in a dict (newest last)."""

    def __init__(self) -> None:
        self.images: dict[str, dict[str, Any]] = {}

    async def create(self, ctx: RequestContext, body: dict[str, Any]) -> dict[str, Any]:
        image = {**body, "status": "queued", "created_at": f"{len(self.images):06d}"}
        self.images[str(body["id"])] = image
        return image

    async def backups(
        self, ctx: RequestContext, instance_uuid: str, backup_type: str
    ) -> list[dict[str, Any]]:
        found = [
            i
            for i in self.images.values()
            if i.get("instance_uuid") == instance_uuid
            and i.get("image_type") == "backup"
            and i.get("backup_type") == backup_type
        ]
        return sorted(found, key=lambda i: str(i["created_at"]), reverse=True)

    async def delete(self, ctx: RequestContext, image_id: str) -> None:
        self.images.pop(image_id, None)


#: the security groups every project has in the fake networking API (besides "default").
SECURITY_GROUPS = {"web", "db"}


async def fake_security_group_check(ctx: RequestContext, wanted: list[str]) -> list[str]:
    """The networking API's security groups, reduced to :data:`SECURITY_GROUPS`."""
    return [w for w in wanted if w != "default" and w not in SECURITY_GROUPS]


async def _no_ports(ctx: RequestContext, server_id: str, name: str, add: bool) -> None:
    """The servers of these tests have no ports in a networking API."""


class ServersCaller:
    """One user's view of the compute API."""

    def __init__(self, client: TestClient, token: str) -> None:
        self.client = client
        self.token = token

    def headers(self, mv: str | None) -> dict[str, str]:
        h = {"X-Auth-Token": self.token}
        if mv:
            h["OpenStack-API-Version"] = f"compute {mv}"
        return h

    def get(self, path: str, mv: str | None = None, **kw: Any) -> httpx.Response:
        return self.client.get(C + path, headers=self.headers(mv), **kw)

    def post(self, path: str, body: Any, mv: str | None = None) -> httpx.Response:
        return self.client.post(C + path, json=body, headers=self.headers(mv))

    def put(self, path: str, body: Any = None, mv: str | None = None) -> httpx.Response:
        return self.client.put(C + path, json=body, headers=self.headers(mv))

    def delete(self, path: str, mv: str | None = None) -> httpx.Response:
        return self.client.delete(C + path, headers=self.headers(mv))

    def action(self, server_id: str, body: Any, mv: str | None = None) -> httpx.Response:
        return self.post(f"/servers/{server_id}/action", body, mv)

    def boot(self, mv: str | None = None, **server: Any) -> dict[str, Any]:
        """Create a server (asserting 202) and return its show view."""
        body = {"name": f"vm-{uuid.uuid4().hex[:6]}", "imageRef": CIRROS, "flavorRef": "1"}
        if mv and _at_least(mv, 2, 37):
            body["networks"] = "none"
        body.update(server)
        resp = self.post("/servers", {"server": body}, mv)
        assert resp.status_code == 202, resp.text
        got = self.get(f"/servers/{resp.json()['server']['id']}", mv)
        assert got.status_code == 200, got.text
        server_view: dict[str, Any] = got.json()["server"]
        return server_view

    def wait_status(self, server_id: str, status: str, timeout: float = 5.0) -> dict[str, Any]:
        """Poll until the server has ``status`` (the fake completes at once)."""
        deadline = time.monotonic() + timeout
        while True:
            body: dict[str, Any] = self.get(f"/servers/{server_id}", "2.1").json()["server"]
            if body["status"] == status or time.monotonic() > deadline:
                assert body["status"] == status, body
                return body
            time.sleep(0.02)


def _at_least(mv: str, major: int, minor: int) -> bool:
    if mv == "latest":
        return True
    a, b = mv.split(".")
    return (int(a), int(b)) >= (major, minor)


@dataclass
class ServersCloud:
    """The cloud under test plus handles on its fakes."""

    client: TestClient
    db: Database
    rpc: FakeComputeRPC
    admin: ServersCaller
    demo: ServersCaller
    alt: ServersCaller
    app_state: Any
    image_store: FakeImageStore
    #: servers the API deleted itself and freed the ports/allocations of
    locally_cleaned: list[str]


@pytest.fixture
def servers_cloud(ident: Identity) -> Iterator[ServersCloud]:
    """Identity and compute with a fake scheduler/compute host and image API."""
    settings, db = ident.settings, ident.db
    compute = create_compute_app(settings, db, local_authenticator(ident))
    rpc = FakeComputeRPC(db)
    compute.app.state.compute_rpc = rpc
    compute.app.state.image_lookup = fake_image_lookup
    compute.app.state.security_group_check = fake_security_group_check
    # No networking API here: the security group actions leave the (absent) ports alone.
    compute.app.state.security_group_ports = _no_ports
    cleaned: list[str] = []

    async def record_cleanup(server_id: str) -> None:
        cleaned.append(server_id)

    compute.app.state.local_cleanup = record_cleanup
    image_store = FakeImageStore()
    compute.app.state.image_store = image_store
    flavors.bootstrap_flavors(db)
    with db.writer() as s:
        hosts.report_service(s, FAKE_HOST, "nova-compute")
        hosts.update_compute_node(
            s, FAKE_HOST, FAKE_NODE, 8, 16384, 100, 0, 0, 0, 0, "fake", 1000, None, "{}"
        )
    app = root_app([create_identity_app(ident), compute])
    with TestClient(app, base_url="http://127.0.0.1:8780") as client:
        yield ServersCloud(
            client=client,
            db=db,
            rpc=rpc,
            admin=ServersCaller(client, issue(client)),
            demo=ServersCaller(client, issue(client, "demo")),
            alt=ServersCaller(client, issue(client, "alt_demo")),
            app_state=compute.app.state,
            image_store=image_store,
            locally_cleaned=cleaned,
        )
