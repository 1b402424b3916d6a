"""The API keeps idle connections open longer than clients' pools do (no reset races).

With uvicorn's default keep-alive (5 s, httpx's pool expiry too) the server closed
connections clients were reusing, and `make load` saw requests die with a reset.
"""

import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from kumo.cli import serve
from kumo.common.config import Settings


def test_default_outlasts_httpx_pool_expiry() -> None:
    # httpx's own default, read from the library: a server closing at the same moment
    # as the client's pool expires races every connection idle for that long.
    httpx_expiry = httpx.Limits(max_connections=1).keepalive_expiry
    assert httpx_expiry is not None
    assert Settings().api_keep_alive > httpx_expiry
    assert Settings().api_keep_alive > uvicorn.Config(app="x:y").timeout_keep_alive


def test_setting_reaches_uvicorn_config() -> None:
    settings = Settings(api_keep_alive=123)
    config = uvicorn.Config(app="x:y", **serve.uvicorn_options(settings))
    assert config.timeout_keep_alive == 123


def test_serve_runs_uvicorn_with_the_keep_alive(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    called: dict[str, Any] = {}

    def fake_run(app: str, **kwargs: Any) -> None:
        called.update(kwargs, app=app)

    monkeypatch.setattr(uvicorn, "run", fake_run)
    # serve() sets these for uvicorn's workers; monkeypatch restores them afterwards.
    monkeypatch.setenv("KUMO_STATE_DIR", str(tmp_path))
    monkeypatch.setenv(serve.ROLE_ENV, "all")
    serve.serve(Settings(state_dir=tmp_path, api_keep_alive=42), "all")
    assert called["app"] == "kumo.cli.serve:app_factory"
    assert called["timeout_keep_alive"] == 42


def test_setting_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUMO_API_KEEP_ALIVE", "90")
    assert Settings().api_keep_alive == 90


def test_served_process_switches_threads_every_millisecond(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: None)
    monkeypatch.setenv("KUMO_STATE_DIR", str(tmp_path))
    monkeypatch.setenv(serve.ROLE_ENV, "all")
    before = sys.getswitchinterval()
    try:
        serve.serve(Settings(state_dir=tmp_path), "all")
        # A writer holding SQLite's lock gets the GIL back within 1 ms, not 5.
        assert sys.getswitchinterval() == pytest.approx(serve.GIL_SWITCH_INTERVAL)
    finally:
        sys.setswitchinterval(before)
