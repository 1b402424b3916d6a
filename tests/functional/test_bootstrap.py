"""kumo up's identity bootstrap is idempotent and resumes after an interruption."""

import pytest
from sqlalchemy import func, select

from kumo.common.config import Settings
from kumo.common.db import Database
from kumo.identity.api.app import make_identity
from kumo.identity.db.models import Assignment, BootstrapState, Endpoint, Project, User
from kumo.identity.service.bootstrap import Bootstrap
from kumo.identity.service.roles import effective_roles


def _counts(db: Database) -> tuple[int, ...]:
    with db.reader() as s:
        return tuple(
            s.scalar(select(func.count()).select_from(m)) or 0
            for m in (Project, User, Assignment, Endpoint)
        )


def test_interrupted_bootstrap_resumes(settings: Settings, db: Database) -> None:
    ident = make_identity(settings, db)
    boot = Bootstrap(ident, "pw", "http://127.0.0.1:8780")
    original = boot.users

    def crash(s):  # type: ignore[no-untyped-def]
        raise RuntimeError("power cut during the users step")

    boot.users = crash  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        boot.run()
    with db.reader() as s:
        assert s.get(BootstrapState, "roles") is not None
        assert s.get(BootstrapState, "users") is None
    boot.users = original  # type: ignore[method-assign]
    boot.run()
    first = _counts(db)
    Bootstrap(ident, "pw", "http://127.0.0.1:8780").run()
    assert _counts(db) == first
    with db.reader() as s:
        admin = s.scalars(select(User).where(User.name == "admin")).one()
        admin_project = s.scalars(select(Project).where(Project.name == "admin")).one()
        names = {r.name for r in effective_roles(s, admin.id, project_id=admin_project.id)}
        assert names == {"admin", "manager", "member", "reader"}


def test_rebootstrap_on_new_port_moves_endpoints(settings: Settings, db: Database) -> None:
    ident = make_identity(settings, db)
    Bootstrap(ident, "pw", "http://127.0.0.1:8780").run()
    Bootstrap(ident, "pw", "http://127.0.0.1:9999").run()
    with db.reader() as s:
        urls = set(s.scalars(select(Endpoint.url)))
    assert urls == {"http://127.0.0.1:9999/identity"}
