"""clouds.yaml: devstack's cloud names, pointing at this Kumo cloud."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from kumo.common.config import Settings

#: cloud name -> (user, project or None for system scope)
CLOUDS = {
    "devstack": ("demo", "demo"),
    "devstack-admin": ("admin", "admin"),
    "devstack-alt": ("alt_demo", "alt_demo"),
    "devstack-system-admin": ("admin", None),
    "kumo": ("demo", "demo"),
    "kumo-admin": ("admin", "admin"),
}


def cloud_entries(settings: Settings, password: str) -> dict[str, Any]:
    """The clouds this cloud contributes to a clouds.yaml."""
    clouds: dict[str, Any] = {}
    for name, (user, project) in CLOUDS.items():
        auth: dict[str, Any] = {
            "auth_url": settings.public_url + "/identity",
            "username": user,
            "password": password,
            "user_domain_id": "default",
        }
        if project:
            auth |= {"project_name": project, "project_domain_id": "default"}
        else:
            auth["system_scope"] = "all"
        clouds[name] = {
            "auth": auth,
            "region_name": settings.region,
            "identity_api_version": 3,
            "interface": "public",
        }
    return clouds


def write_private_yaml(path: Path, data: dict[str, Any]) -> None:
    """Write YAML readable only by the owner (it holds passwords), atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        yaml.safe_dump(data, f, default_flow_style=False, sort_keys=True)
    os.replace(tmp, path)


def merge_into(path: Path, clouds: dict[str, Any]) -> None:
    """Add or replace our clouds in ``path``, keeping every other cloud and key."""
    existing: dict[str, Any] = {}
    if path.exists():
        loaded = yaml.safe_load(path.read_text()) or {}
        if isinstance(loaded, dict):
            existing = loaded
    merged = dict(existing)
    merged["clouds"] = {**(existing.get("clouds") or {}), **clouds}
    write_private_yaml(path, merged)


def user_clouds_yaml() -> Path:
    """~/.config/openstack/clouds.yaml, where openstackclient and openstacksdk look."""
    return (
        Path(os.environ.get("XDG_CONFIG_HOME", Path.home() / ".config"))
        / "openstack"
        / ("clouds.yaml")
    )
