"""Shared fixtures: a bootstrapped identity service on a fresh database."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine

from kumo.common.config import Settings
from kumo.common.db import Base, Database
from kumo.identity.api.app import create_app, make_identity
from kumo.identity.service.bootstrap import FULL_CATALOG, Bootstrap
from kumo.identity.service.core import Identity

ADMIN_PASSWORD = "secret-admin-pw"
#: The `kumo` service user's password in every test cloud.
SERVICE_PASSWORD = "secret-service-pw"
#: The servers every machine runs; each test run works in a database of its own.
SERVERS = {
    "postgres": "postgresql+psycopg://postgres@127.0.0.1:5432/",
    "mysql": "mysql+pymysql://root@127.0.0.1:3306/",
}
RUN_DATABASE = f"kumo_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
# Many test clouds run at once on one host: none runs the Linux network data plane
# (default "auto") unless its test asks with network_agent=True. `kumo up` children
# started with os.environ inherit this.
os.environ["KUMO_NETWORK_AGENT"] = "false"


def _server_admin(kind: str) -> Engine:
    # Connect to the database that always exists, with autocommit for DDL.
    home = "test" if kind == "mysql" else "postgres"
    return create_engine(SERVERS[kind] + home, isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def server_databases() -> Iterator[dict[str, str]]:
    """A database of this run's own on each server it uses, dropped at the end."""
    made: dict[str, str] = {}
    yield made
    for kind in made:
        engine = _server_admin(kind)
        with engine.connect() as conn:
            # FORCE: a test may still hold a pooled connection (PostgreSQL 13+).
            force = " WITH (FORCE)" if kind == "postgres" else ""
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {RUN_DATABASE}{force}")
        engine.dispose()


def _database_url(kind: str, made: dict[str, str]) -> str:
    if kind not in made:
        engine = _server_admin(kind)
        with engine.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE {RUN_DATABASE}")
        engine.dispose()
        made[kind] = SERVERS[kind] + RUN_DATABASE
    return made[kind]


def _backends() -> list[str]:
    wanted = os.environ.get("KUMO_TEST_DATABASES", "sqlite")
    return [b.strip() for b in wanted.split(",") if b.strip()]


def _drop_everything(db: Database) -> None:
    with db.write_engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    Base.metadata.drop_all(db.write_engine)


def _empty_tables(db: Database) -> None:
    with db.write_engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture(scope="session")
def sqlite_templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """State dirs made once per run: migrated, and migrated plus bootstrapped.

    Tests copy them instead of migrating and hashing passwords every time.
    """
    migrated = tmp_path_factory.mktemp("template-migrated")
    database = Database(f"sqlite:///{migrated / 'kumo.db'}")
    database.upgrade()
    database.dispose()  # the last connection to close checkpoints the WAL into the file
    booted = tmp_path_factory.mktemp("template-bootstrapped")
    shutil.copy(migrated / "kumo.db", booted / "kumo.db")
    settings = Settings(state_dir=booted, database_url=f"sqlite:///{booted / 'kumo.db'}")
    database = Database(settings.effective_database_url)
    _bootstrap(make_identity(settings, database))
    database.dispose()
    return {"migrated": migrated, "bootstrapped": booted}


def _bootstrap(identity: Identity) -> None:
    # As `kumo up` does it: every service in the catalog, and the service user.
    Bootstrap(
        identity,
        ADMIN_PASSWORD,
        "http://127.0.0.1:8780",
        catalog=FULL_CATALOG,
        service_password=SERVICE_PASSWORD,
    ).run()


_MIGRATED_SERVERS: set[str] = set()
#: The rows of a freshly bootstrapped database, per server URL.
_SNAPSHOTS: dict[str, dict[str, list[dict[str, object]]]] = {}


@pytest.fixture(params=_backends())
def settings(
    request: pytest.FixtureRequest, tmp_path: Path, server_databases: dict[str, str]
) -> Settings:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'kumo.db'}"
    else:
        url = _database_url(request.param, server_databases)
    return Settings(
        state_dir=tmp_path, database_url=url, port=8780, service_password=SERVICE_PASSWORD
    )


def _fresh_database(settings: Settings, templates: dict[str, Path], kind: str) -> Database:
    url = settings.effective_database_url
    if url.startswith("sqlite"):
        shutil.copytree(templates[kind], settings.state_dir, dirs_exist_ok=True)
        return Database(url)
    database = Database(url)
    if url not in _MIGRATED_SERVERS:
        # Once per run and server: a clean schema at the newest migration.
        _drop_everything(database)
        database.upgrade()
        _MIGRATED_SERVERS.add(url)
    else:
        _empty_tables(database)
    if kind == "bootstrapped":
        identity = make_identity(settings, database)
        if url in _SNAPSHOTS:
            # Restoring the rows is much faster than bootstrapping (no password hashing).
            identity.setup_keys()
            with database.write_engine.begin() as conn:
                for table in Base.metadata.sorted_tables:
                    if rows := _SNAPSHOTS[url].get(table.name):
                        conn.execute(table.insert(), rows)
        else:
            _bootstrap(identity)
            with database.read_engine.connect() as conn:
                _SNAPSHOTS[url] = {
                    table.name: [dict(row._mapping) for row in conn.execute(table.select())]
                    for table in Base.metadata.sorted_tables
                }
    return database


@pytest.fixture
def db(settings: Settings, sqlite_templates: dict[str, Path]) -> Iterator[Database]:
    """A migrated, empty database."""
    database = _fresh_database(settings, sqlite_templates, "migrated")
    yield database
    database.dispose()


@pytest.fixture
def ident(settings: Settings, sqlite_templates: dict[str, Path]) -> Iterator[Identity]:
    """The identity service on a database bootstrapped as `kumo up` does it."""
    database = _fresh_database(settings, sqlite_templates, "bootstrapped")
    yield make_identity(settings, database)
    database.dispose()


@pytest.fixture
def client(ident: Identity) -> Iterator[TestClient]:
    from kumo.common.web import root_app

    app = root_app([create_app(ident)])
    with TestClient(app, base_url="http://127.0.0.1:8780") as c:
        yield c


@pytest.fixture
def cloud(ident: Identity) -> Iterator[TestClient]:
    """The whole API (every service, as `kumo serve` builds it) on a bootstrapped database."""
    from kumo.app import build_app

    with TestClient(build_app(ident.settings, ident.db), base_url="http://127.0.0.1:8780") as c:
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
