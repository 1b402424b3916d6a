"""Fixtures of the boot-journey tests: a whole cloud with N simulated (fake) hosts.

The instance record and its ``create`` action are written as the servers API
writes them (steps 3–7), then the journey runs through the real bus, scheduler,
Placement (HTTP), conductor, compute agents and fake driver.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kumo.app import build_app
from kumo.common.context import RequestContext
from kumo.common.db import Database, utcnow
from kumo.compute.db.instances import Instance
from kumo.compute.runtime import ComputeRuntime, find_runtime
from kumo.compute.service import instance_actions, servers
from kumo.compute.service.flavors import bootstrap_flavors, flavor_view_dict, get_flavor
from kumo.identity.service.core import Identity
from tests.conftest import issue

RABBIT_URL = os.environ.get("KUMO_TEST_RABBIT_URL", "amqp://guest:guest@127.0.0.1:5672/")


@dataclass
class Cloud:
    """A running cloud: HTTP client, its compute runtime, its database."""

    client: TestClient
    runtime: ComputeRuntime
    db: Database
    admin_token: str

    def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run an async function on the app's event loop."""
        return self.client.portal.call(fn, *args)  # type: ignore[union-attr]

    def ctx(self) -> RequestContext:
        """The admin's request context (as the servers API passes it on)."""
        with self.db.reader() as s:
            from kumo.identity.db.models import Project, User

            user = s.query(User).filter_by(name="admin").one()
            project = s.query(Project).filter_by(name="admin").one()
            return RequestContext(
                user_id=user.id,
                project_id=project.id,
                roles=["admin", "member", "reader"],
                token_id=self.admin_token,
            )

    def create_instance(
        self,
        flavor: str = "1",
        *,
        image_ref: str = "",
        networks: Any = "none",
        az: str | None = None,
        hints: dict[str, Any] | None = None,
    ) -> tuple[str, str]:
        """Write an instance as the servers API does (BUILD/scheduling) → (uuid, request_id)."""
        ctx = self.ctx()
        instance_uuid = str(uuid.uuid4())
        request_id = f"req-{uuid.uuid4()}"
        with self.db.writer() as s:
            fl = get_flavor(s, flavor)
            snapshot = {
                "id": fl.id,
                "flavorid": fl.id,
                "name": fl.name,
                "vcpus": fl.vcpus,
                "memory_mb": fl.memory_mb,
                "root_gb": fl.root_gb,
                "ephemeral_gb": fl.ephemeral_gb,
                "swap": fl.swap,
                "extra_specs": {},
            }
            assert flavor_view_dict is not None
            s.add(
                Instance(
                    uuid=instance_uuid,
                    display_name=f"vm-{instance_uuid[:8]}",
                    project_id=ctx.project_id,
                    user_id=ctx.user_id,
                    reservation_id=f"r-{uuid.uuid4().hex[:8]}",
                    image_ref=image_ref,
                    flavor_id=fl.id,
                    flavor=snapshot,
                    vcpus=fl.vcpus,
                    memory_mb=fl.memory_mb,
                    root_gb=fl.root_gb,
                    vm_state="building",
                    task_state="scheduling",
                    power_state=0,
                    availability_zone=az,
                    requested_networks=networks,
                    scheduler_hints=hints or {},
                    created_at=utcnow(),
                    updated_at=utcnow(),
                )
            )
            s.flush()
            instance_actions.start_action(
                s, instance_uuid, "create", request_id, ctx.user_id, ctx.project_id
            )
        return instance_uuid, request_id

    def boot(self, flavor: str = "1", **kwargs: Any) -> tuple[str, str]:
        """Create an instance and ask the scheduler to place it (steps 8–12)."""
        instance_uuid, request_id = self.create_instance(flavor, **kwargs)
        self.run(
            self.runtime.compute_rpc.schedule_and_build, self.ctx(), [instance_uuid], request_id
        )
        return instance_uuid, request_id

    def instance(self, instance_uuid: str) -> Instance:
        """The instance row (deleted ones too)."""
        with self.db.reader() as s:
            row = servers.get_instance(s, instance_uuid, read_deleted=True)
            s.expunge(row)
            return row

    def wait(
        self, instance_uuid: str, done: Callable[[Instance], bool], timeout: float = 20.0
    ) -> Instance:
        """Poll until ``done(instance)``; fail with its state on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            row = self.instance(instance_uuid)
            if done(row):
                return row
            if time.monotonic() > deadline:
                pytest.fail(f"instance {instance_uuid} stuck: {row.vm_state}/{row.task_state}")
            time.sleep(0.05)

    def wait_settled(self, instance_uuid: str, timeout: float = 20.0) -> Instance:
        """Wait until the instance has no task and has left building."""
        return self.wait(
            instance_uuid, lambda r: r.task_state is None and r.vm_state != "building", timeout
        )

    def allocations(self, instance_uuid: str) -> dict[str, Any]:
        """The instance's allocations in Placement (through HTTP)."""
        resp = self.client.get(
            f"/placement/allocations/{instance_uuid}",
            headers={"X-Auth-Token": self.admin_token, "OpenStack-API-Version": "placement 1.28"},
        )
        assert resp.status_code == 200, resp.text
        result: dict[str, Any] = resp.json()["allocations"]
        return result


@pytest.fixture
def make_cloud(ident: Identity) -> Iterator[Callable[..., Any]]:
    """``with make_cloud(fake_hosts=3) as cloud:`` — a cloud with that many fake hosts."""

    @contextmanager
    def factory(**overrides: Any) -> Iterator[Cloud]:
        settings = ident.settings.model_copy(
            update={
                "virt_driver": "fake",
                "compute_host": "fake",
                "bus_topic_prefix": f"t{uuid.uuid4().hex[:8]}.",
                **overrides,
            }
        )
        bootstrap_flavors(ident.db)
        app = build_app(settings, ident.db)
        with TestClient(app, base_url="http://127.0.0.1:8780") as client:
            runtime = find_runtime(app)
            assert runtime is not None
            token = issue(client)
            cloud = Cloud(client, runtime, ident.db, token)
            cloud.run(runtime.ensure_registered)
            yield cloud

    yield factory


def start_action(cloud: Cloud, instance_uuid: str, action: str, task_state: str | None) -> str:
    """Record an action and set its task_state, as the servers API does before casting."""
    ctx = cloud.ctx()
    request_id = f"req-{uuid.uuid4()}"
    with cloud.db.writer() as s:
        instance_actions.start_action(
            s, instance_uuid, action, request_id, ctx.user_id, ctx.project_id
        )
        if task_state is not None:
            servers.set_state(s, instance_uuid, task_state=task_state)
    return request_id
