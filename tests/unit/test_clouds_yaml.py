"""clouds.yaml is merged into the user's file without clobbering other clouds."""

import stat
from pathlib import Path

import yaml

from kumo.cli.clouds import cloud_entries, merge_into
from kumo.common.config import Settings


def test_merge_keeps_other_clouds_and_is_private(tmp_path: Path) -> None:
    path = tmp_path / "clouds.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "clouds": {"mine": {"auth": {"auth_url": "x"}}, "devstack": {"old": True}},
                "cache": {"max_age": 5},
            }
        )
    )
    entries = cloud_entries(Settings(state_dir=tmp_path, port=8123), "pw")
    merge_into(path, entries)
    data = yaml.safe_load(path.read_text())
    assert data["clouds"]["mine"] == {"auth": {"auth_url": "x"}}
    assert data["cache"] == {"max_age": 5}
    assert data["clouds"]["devstack"]["auth"]["username"] == "demo"
    assert data["clouds"]["devstack-admin"]["auth"]["auth_url"] == (
        "http://127.0.0.1:8123/identity"
    )
    assert data["clouds"]["devstack-system-admin"]["auth"]["system_scope"] == "all"
    assert set(entries) >= {"devstack", "devstack-admin", "devstack-alt", "kumo", "kumo-admin"}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
