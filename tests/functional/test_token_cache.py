"""Validated tokens are cached per process, but any identity change anywhere ends it."""

import pytest
from sqlalchemy import update

from kumo.common.config import Settings
from kumo.common.db import Database
from kumo.common.errors import NotFound
from kumo.identity.api.app import make_identity
from kumo.identity.db.models import User
from kumo.identity.schemas import AuthRequest
from kumo.identity.service import auth, revision
from kumo.identity.service.bootstrap import Bootstrap


def _login(ident, project: str = "demo"):  # type: ignore[no-untyped-def]
    req = AuthRequest.model_validate(
        {
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {
                        "user": {"name": "demo", "domain": {"id": "default"}, "password": "pw"}
                    },
                },
                "scope": {"project": {"name": project, "domain": {"id": "default"}}},
            }
        }
    )
    token, _ = auth.issue_token(ident, req)
    return token


def test_a_change_made_by_another_process_invalidates_the_cache(
    settings: Settings, db: Database
) -> None:
    api_one = make_identity(settings, db)
    Bootstrap(api_one, "pw", "http://127.0.0.1:8780").run()
    # A second "process": its own Database object and its own cache.
    api_two = make_identity(settings, Database(settings.effective_database_url))
    token = _login(api_one)
    first = auth.validated(api_one, token)
    assert auth.validated(api_one, token) is first  # served from the cache
    with api_two.db.writer() as s:
        s.execute(update(User).where(User.name == "demo").values(enabled=False))
    with pytest.raises(NotFound):
        auth.validated(api_one, token)


def test_revoking_in_one_process_is_seen_by_the_other(settings: Settings, db: Database) -> None:
    api_one = make_identity(settings, db)
    Bootstrap(api_one, "pw", "http://127.0.0.1:8780").run()
    api_two = make_identity(settings, Database(settings.effective_database_url))
    token = _login(api_one)
    auth.validated(api_one, token)
    auth.revoke_token(api_two, token)
    with pytest.raises(NotFound):
        auth.validated(api_one, token)


def test_a_revoked_token_leaves_this_process_cache_at_once(
    settings: Settings, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = make_identity(settings, db)
    Bootstrap(api, "pw", "http://127.0.0.1:8780").run()
    token = _login(api)
    auth.validated(api, token)
    auth.revoke_token(api, token)
    # Even if the revision read were stale, the token is no longer cached here.
    monkeypatch.setattr(revision, "latest", lambda engine: 0)
    assert api.token_cache.get(token, 0) is None
    with pytest.raises(NotFound):
        auth.validated(api, token)
