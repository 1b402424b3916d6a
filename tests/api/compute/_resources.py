"""Helpers for the compute-resources tests (flavors, key pairs, quotas, hosts)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from kumo.common.db import Database
from kumo.compute.service import flavors, hosts
from tests.conftest import issue

C = "/compute/v2.1"


class Caller:
    """One user's view of the compute API: a token and an optional microversion."""

    def __init__(self, cloud: TestClient, token: str) -> None:
        self.cloud = cloud
        self.token = token

    def headers(self, mv: str | None) -> dict[str, str]:
        h = {"X-Auth-Token": self.token}
        if mv:
            h["OpenStack-API-Version"] = f"compute {mv}"
        return h

    def get(self, path: str, mv: str | None = None, **kw: Any) -> httpx.Response:
        return self.cloud.get(C + path, headers=self.headers(mv), **kw)

    def post(self, path: str, body: Any, mv: str | None = None) -> httpx.Response:
        return self.cloud.post(C + path, json=body, headers=self.headers(mv))

    def put(self, path: str, body: Any, mv: str | None = None) -> httpx.Response:
        return self.cloud.put(C + path, json=body, headers=self.headers(mv))

    def delete(self, path: str, mv: str | None = None) -> httpx.Response:
        return self.cloud.delete(C + path, headers=self.headers(mv))


@pytest.fixture
def nova_admin(cloud: TestClient) -> Caller:
    """The admin user on project admin."""
    return Caller(cloud, issue(cloud))


@pytest.fixture
def nova_demo(cloud: TestClient) -> Caller:
    """The demo user (member) on project demo."""
    return Caller(cloud, issue(cloud, "demo"))


@pytest.fixture
def nova_alt(cloud: TestClient) -> Caller:
    """The alt_demo user (member) on project alt_demo."""
    return Caller(cloud, issue(cloud, "alt_demo"))


@pytest.fixture
def rdb(ident: Any) -> Database:
    """The database behind the cloud fixture, with devstack's flavors."""
    db: Database = ident.db
    flavors.bootstrap_flavors(db)
    return db


def project_id(cloud: TestClient, caller: Caller) -> str:
    """The project of a caller's token."""
    resp = cloud.get(
        "/identity/v3/auth/tokens",
        headers={"X-Auth-Token": caller.token, "X-Subject-Token": caller.token},
    )
    return str(resp.json()["token"]["project"]["id"])


def user_id(cloud: TestClient, caller: Caller) -> str:
    """The user of a caller's token."""
    resp = cloud.get(
        "/identity/v3/auth/tokens",
        headers={"X-Auth-Token": caller.token, "X-Subject-Token": caller.token},
    )
    return str(resp.json()["token"]["user"]["id"])


def add_host(db: Database, host: str, vcpus: int = 8, ram: int = 16384, disk: int = 100) -> None:
    """A compute host that reported its service and node."""
    with db.writer() as s:
        hosts.report_service(s, host, "nova-compute")
        hosts.update_compute_node(
            s,
            host,
            host,
            vcpus,
            ram,
            disk,
            1,
            512,
            1,
            1,
            "fake",
            1000,
            "192.0.2.10",
            '{"arch": "x86_64"}',
        )
