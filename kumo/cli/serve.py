"""`kumo serve --role R`: run one role of Kumo in this process."""

from __future__ import annotations

import os

from kumo.cli.processes import write_pid
from kumo.cli.state import StateDir
from kumo.common.config import Settings
from kumo.common.log import setup_logging

#: Roles that serve the HTTP APIs ("all" runs every role in one process).
API_ROLES = ("all", "api")
ROLES = API_ROLES


def app_factory() -> object:
    """The ASGI app for uvicorn's factory mode (each worker builds its own)."""
    from kumo.app import build_app

    settings = Settings()
    setup_logging(settings.log_level)
    return build_app(settings)


def serve(settings: Settings, role: str) -> None:
    """Run ``role`` until terminated."""
    if role not in ROLES:
        raise SystemExit(f"unknown role {role!r}; known roles: {', '.join(ROLES)}")
    state = StateDir(settings)
    state.ensure()
    write_pid(state.pidfile(role))
    setup_logging(settings.log_level)
    import uvicorn

    os.environ["KUMO_STATE_DIR"] = str(settings.state_dir)
    try:
        uvicorn.run(
            "kumo.cli.serve:app_factory",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=settings.api_workers,
            log_config=None,
            access_log=False,
            lifespan="off",
            server_header=False,
            timeout_graceful_shutdown=5,
        )
    finally:
        state.pidfile(role).unlink(missing_ok=True)
