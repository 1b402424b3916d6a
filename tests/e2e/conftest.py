"""One cloud per test session, started with `kumo up` the way a user would, and purged after.

The cloud lives in a temporary state directory on a free port, with HOME and
XDG_CONFIG_HOME inside the temporary directory: the developer's own clouds.yaml and
state are never touched. Clients get OS_CLIENT_CONFIG_FILE=<state>/clouds.yaml.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.clients import (
    ADMIN_PASSWORD,
    CLIENT_PYTHON,
    KUMO,
    OPENSTACK,
    Cloud,
    clean_env,
    free_port,
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test under tests/e2e drives real clients against a real cloud."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)


def _logs(state: Path) -> str:
    logs = sorted((state / "logs").glob("*.log")) if (state / "logs").is_dir() else []
    return "".join(
        f"\n--- {log.name} (last 30 lines)\n"
        + "\n".join(log.read_text(errors="replace").splitlines()[-30:])
        for log in logs
    )


@pytest.fixture(scope="session")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cloud]:
    """A cloud started by `kumo up`; `kumo down --purge` runs at the end, whatever happened."""
    for tool in (KUMO, OPENSTACK, CLIENT_PYTHON):
        if not tool.exists():
            pytest.fail(f"{tool} is missing: run `make venv clients` first", pytrace=False)
    root = tmp_path_factory.mktemp("kumo-e2e")
    home, state = root / "home", root / "state"
    home.mkdir()
    port = free_port()
    kumo_env = clean_env(home) | {
        "KUMO_STATE_DIR": str(state),
        "KUMO_PORT": str(port),
        "KUMO_ADMIN_PASSWORD": ADMIN_PASSWORD,
        # Several test clouds share this host; this one tests the APIs, not the data plane.
        "KUMO_NETWORK_AGENT": "false",
    }
    client_env = clean_env(home) | {"OS_CLIENT_CONFIG_FILE": str(state / "clouds.yaml")}
    try:
        up = subprocess.run(
            [str(KUMO), "up"], env=kumo_env, capture_output=True, text=True, timeout=120
        )
        if up.returncode != 0:
            pytest.fail(
                f"`kumo up` exited {up.returncode}\n{up.stdout}{up.stderr}{_logs(state)}",
                pytrace=False,
            )
        yield Cloud(state_dir=state, port=port, admin_password=ADMIN_PASSWORD, env=client_env)
    finally:
        down = subprocess.run(
            [str(KUMO), "down", "--purge"],
            env=kumo_env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert down.returncode == 0, f"`kumo down --purge` failed:\n{down.stdout}{down.stderr}"
