"""A database that cannot be reached is a 503 with Retry-After in every service, never a 500."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from fastapi.testclient import TestClient
from sqlalchemy.exc import IntegrityError, OperationalError

from kumo.common.errors import KumoError
from kumo.common.web import make_service_app


def _render(error: KumoError, request: Request) -> Response:
    return JSONResponse({"status": error.status, "message": error.message}, error.status)


def _app() -> TestClient:
    app, asgi = make_service_app("t", _render, 1024)

    @app.get("/lost")
    def lost() -> None:
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))

    @app.get("/bug")
    def bug() -> None:
        raise IntegrityError("INSERT", {}, Exception("duplicate key"))

    return TestClient(asgi, raise_server_exceptions=False)


def test_lost_connection_outside_a_session_is_503_with_retry_after() -> None:
    resp = _app().get("/lost")
    assert resp.status_code == 503
    assert resp.headers["Retry-After"] == "2"
    assert "database is unavailable" in resp.json()["message"]


def test_other_database_errors_stay_500() -> None:
    resp = _app().get("/bug")
    assert resp.status_code == 500
    assert "Retry-After" not in resp.headers


def test_a_lost_connection_is_answered_without_the_exception_escaping() -> None:
    # Escaping (Starlette's catch-all re-raises) made uvicorn drop the keep-alive connection.
    app, asgi = make_service_app("t", _render, 1024)

    @app.get("/lost")
    def lost() -> None:
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))

    resp = TestClient(asgi, raise_server_exceptions=True).get("/lost")
    assert resp.status_code == 503
