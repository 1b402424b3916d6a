"""Shared fixtures: a bootstrapped identity service on a fresh database."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kumo.common.config import Settings
from kumo.common.db import Base, Database
from kumo.identity.api.app import create_app, make_identity
from kumo.identity.service.bootstrap import Bootstrap
from kumo.identity.service.core import Identity

ADMIN_PASSWORD = "secret-admin-pw"
DB_URLS = {
    "sqlite": None,
    "postgres": "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    "mysql": "mysql+pymysql://root@127.0.0.1:3306/test",
}


def _backends() -> list[str]:
    wanted = os.environ.get("KUMO_TEST_DATABASES", "sqlite")
    return [b.strip() for b in wanted.split(",") if b.strip()]


def _reset(db: Database) -> None:
    with db.write_engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    Base.metadata.drop_all(db.write_engine)


@pytest.fixture(params=_backends())
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    url = DB_URLS[request.param] or f"sqlite:///{tmp_path / 'kumo.db'}"
    return Settings(state_dir=tmp_path, database_url=url, port=8780)


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    database = Database(settings.effective_database_url)
    if not database.url.startswith("sqlite"):
        _reset(database)
    database.upgrade()
    yield database
    if not database.url.startswith("sqlite"):
        _reset(database)
    database.dispose()


@pytest.fixture
def ident(settings: Settings, db: Database) -> Identity:
    identity = make_identity(settings, db)
    Bootstrap(identity, ADMIN_PASSWORD, "http://127.0.0.1:8780").run()
    return identity


@pytest.fixture
def client(ident: Identity) -> Iterator[TestClient]:
    from kumo.common.web import root_app

    app = root_app([create_app(ident)])
    with TestClient(app, base_url="http://127.0.0.1:8780") as c:
        yield c


def password_auth(
    user: str,
    password: str,
    project: str | None = None,
    domain: str | None = None,
    system: bool = False,
) -> dict[str, object]:
    """An auth request body, as keystoneauth would send it."""
    body: dict[str, object] = {
        "identity": {
            "methods": ["password"],
            "password": {"user": {"name": user, "domain": {"id": "default"}, "password": password}},
        }
    }
    if project:
        body["scope"] = {"project": {"name": project, "domain": {"id": "default"}}}
    elif domain:
        body["scope"] = {"domain": {"id": domain}}
    elif system:
        body["scope"] = {"system": {"all": True}}
    return {"auth": body}


def issue(
    client: TestClient, user: str = "admin", password: str = ADMIN_PASSWORD, **scope: object
) -> str:
    """Issue a token and return it (asserting 201)."""
    if not scope:
        scope = {"project": "admin"} if user == "admin" else {"project": user}
    resp = client.post("/identity/v3/auth/tokens", json=password_auth(user, password, **scope))  # type: ignore[arg-type]
    assert resp.status_code == 201, resp.text
    return resp.headers["X-Subject-Token"]


@pytest.fixture
def admin_token(client: TestClient) -> str:
    return issue(client)


@pytest.fixture
def admin(client: TestClient, admin_token: str) -> TestClient:
    """A client that sends the admin's project-scoped token."""
    client.headers["X-Auth-Token"] = admin_token
    return client


def unique(prefix: str) -> str:
    """A name no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"
