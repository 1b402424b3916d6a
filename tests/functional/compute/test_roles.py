"""Separate roles: the compute agent in its own runtime, without a database, over RabbitMQ."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from kumo.app import build_app
from kumo.cli.serve import serve
from kumo.common.config import Settings
from kumo.compute.rpcapi import CONDUCTOR_TOPIC, SCHEDULER_TOPIC, compute_topic
from kumo.compute.runtime import ComputeRuntime, find_runtime
from kumo.compute.service.flavors import bootstrap_flavors
from kumo.identity.service.core import Identity
from tests.conftest import issue
from tests.functional.compute.conftest import RABBIT_URL, Cloud
from tests.functional.compute.test_bus_variants import _delete_queues


@pytest.mark.rabbit
def test_compute_role_without_database_builds_servers(ident: Identity) -> None:
    settings = ident.settings.model_copy(
        update={
            "transport_url": RABBIT_URL,
            "compute_host": "remote",
            "bus_topic_prefix": f"t{uuid.uuid4().hex[:8]}.",
        }
    )
    bootstrap_flavors(ident.db)
    app = build_app(settings, ident.db, compute_pieces=("scheduler", "conductor"))
    topics = [settings.bus_topic_prefix + t for t in (SCHEDULER_TOPIC, CONDUCTOR_TOPIC)]
    topics.append(compute_topic("remote", settings.bus_topic_prefix))
    try:
        with TestClient(app, base_url="http://127.0.0.1:8780") as client:
            api_runtime = find_runtime(app)
            assert api_runtime is not None and not api_runtime.agents
            # The compute role: no database at all, the APIs over HTTP (here: the app).
            agent_runtime = ComputeRuntime(
                settings, None, pieces=["compute"], transport=httpx.ASGITransport(app=app)
            )
            portal = client.portal
            assert portal is not None
            portal.call(agent_runtime.start)
            try:
                portal.call(agent_runtime.ensure_registered)
                cloud = Cloud(client, api_runtime, ident.db, issue(client))
                instance_uuid, _ = cloud.boot("1")
                row = cloud.wait_settled(instance_uuid)
                assert (row.vm_state, row.host) == ("active", "remote")
                assert instance_uuid in portal.call(
                    agent_runtime.agents["remote"].driver.list_instances
                )
            finally:
                portal.call(agent_runtime.stop)
    finally:
        asyncio.run(_delete_queues(topics))


def test_worker_roles_refuse_the_in_process_bus(tmp_path: Any) -> None:
    settings = Settings(state_dir=tmp_path, transport_url="inproc://")
    with pytest.raises(SystemExit, match="RabbitMQ"):
        serve(settings, "compute")


def test_unknown_role_is_refused(tmp_path: Any) -> None:
    with pytest.raises(SystemExit, match="unknown role"):
        serve(Settings(state_dir=tmp_path), "gardener")
