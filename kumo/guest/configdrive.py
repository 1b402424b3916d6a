"""The config drive: an ISO 9660 volume labelled ``config-2``, laid out as Nova does.

:func:`config_drive_files` turns a plain-data :class:`InstanceMetadata` into the
drive's files (a pure function: same description, same bytes), and
:func:`write_config_drive` writes them as an ISO with ``genisoimage`` (Debian
package ``genisoimage``), with the options Nova passes (Joliet and Rock Ridge
names, volume id ``config-2``).

Layout (``nova/api/metadata/base.py`` ``metadata_for_config_drive``):
``openstack/{2018-08-27,latest}/`` hold ``meta_data.json``, ``user_data`` (when
given), ``vendor_data.json``, ``network_data.json``, ``vendor_data2.json`` — the
dated folder is what cloud-init 22.x reads, so both are identical —, and
``ec2/{2009-04-04,latest}/`` hold ``meta-data.json`` and ``user-data``.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: The dated OpenStack metadata folder written next to ``latest`` (Nova's ROCKY).
OPENSTACK_VERSION = "2018-08-27"
#: The dated EC2 metadata folder written next to ``latest`` (the newest EC2 version).
EC2_VERSION = "2009-04-04"
LABEL = "config-2"


class ConfigDriveError(Exception):
    """The config drive could not be written."""


def _random_seed() -> str:
    return base64.b64encode(os.urandom(512)).decode()


@dataclass
class InstanceMetadata:
    """What the guest is told about itself (plain data, no database objects)."""

    uuid: str
    name: str
    hostname: str
    project_id: str
    availability_zone: str = "nova"
    launch_index: int = 0
    meta: dict[str, str] = field(default_factory=dict)
    key_name: str | None = None
    key_data: str | None = None
    key_type: str = "ssh"
    user_data: bytes | None = None
    #: network_data.json as Nova builds it (links, networks, services).
    network_data: dict[str, Any] = field(
        default_factory=lambda: {"links": [], "networks": [], "services": []}
    )
    vendor_data: dict[str, Any] = field(default_factory=dict)
    devices: list[dict[str, Any]] = field(default_factory=list)
    flavor_name: str = ""
    reservation_id: str = ""
    ec2_instance_id: str = ""
    ami_id: str = ""
    #: EC2 ``block-device-mapping``: ami/root, and ephemeral0/swap when the flavor has them.
    block_device_mapping: dict[str, str] = field(
        default_factory=lambda: {"ami": "vda", "root": "/dev/vda"}
    )
    kernel_id: str | None = None
    ramdisk_id: str | None = None
    fixed_ips: list[str] = field(default_factory=list)
    floating_ips: list[str] = field(default_factory=list)
    security_groups: list[str] = field(default_factory=list)
    random_seed: str = field(default_factory=_random_seed)


def meta_data(instance: InstanceMetadata) -> dict[str, Any]:
    """``openstack/<version>/meta_data.json`` (Nova's ``_metadata_as_json`` at ROCKY)."""
    data: dict[str, Any] = {"uuid": instance.uuid, "meta": dict(instance.meta)}
    if instance.key_name and instance.key_data:
        data["public_keys"] = {instance.key_name: instance.key_data}
        data["keys"] = [
            {"name": instance.key_name, "type": instance.key_type, "data": instance.key_data}
        ]
    data.update(
        {
            "hostname": instance.hostname,
            "name": instance.name,
            "launch_index": instance.launch_index,
            "availability_zone": instance.availability_zone,
            "random_seed": instance.random_seed,
            "project_id": instance.project_id,
            "devices": list(instance.devices),
        }
    )
    return data


def ec2_meta_data(instance: InstanceMetadata) -> dict[str, Any]:
    """``ec2/<version>/meta-data.json`` (Nova's ``get_ec2_metadata`` at 2009-04-04)."""
    data: dict[str, Any] = {
        "ami-id": instance.ami_id,
        "ami-launch-index": instance.launch_index,
        "ami-manifest-path": "FIXME",
        "instance-id": instance.ec2_instance_id,
        "hostname": instance.hostname,
        "local-ipv4": instance.fixed_ips[0] if instance.fixed_ips else "",
        "reservation-id": instance.reservation_id,
        "security-groups": list(instance.security_groups),
    }
    if instance.key_name and instance.key_data:
        data["public-keys"] = {"0": {"openssh-key": instance.key_data}}
    data.update(
        {
            "local-hostname": instance.hostname,
            "public-hostname": instance.hostname,
            "public-ipv4": instance.floating_ips[0] if instance.floating_ips else "",
            "instance-type": instance.flavor_name,
            "block-device-mapping": dict(instance.block_device_mapping),
            "placement": {"availability-zone": instance.availability_zone},
            "instance-action": "none",
        }
    )
    if instance.kernel_id:
        data["kernel-id"] = instance.kernel_id
    if instance.ramdisk_id:
        data["ramdisk-id"] = instance.ramdisk_id
    return data


def _json(data: Any) -> bytes:
    return json.dumps(data).encode()


def config_drive_files(instance: InstanceMetadata) -> dict[str, bytes]:
    """Every file of the drive, by path, for ``instance``."""
    files: dict[str, bytes] = {}
    for version in (EC2_VERSION, "latest"):
        if instance.user_data is not None:
            files[f"ec2/{version}/user-data"] = instance.user_data
        files[f"ec2/{version}/meta-data.json"] = _json(ec2_meta_data(instance))
    for version in (OPENSTACK_VERSION, "latest"):
        folder = f"openstack/{version}"
        files[f"{folder}/meta_data.json"] = _json(meta_data(instance))
        if instance.user_data is not None:
            files[f"{folder}/user_data"] = instance.user_data
        files[f"{folder}/vendor_data.json"] = _json(instance.vendor_data)
        files[f"{folder}/network_data.json"] = _json(instance.network_data)
        files[f"{folder}/vendor_data2.json"] = _json({"static": instance.vendor_data})
    return files


def write_config_drive(instance: InstanceMetadata, path: Path) -> Path:
    """Write the ISO 9660 config drive of ``instance`` to ``path`` (replaced atomically)."""
    files = config_drive_files(instance)
    with tempfile.TemporaryDirectory(prefix="kumo-configdrive-") as tree:
        for name, data in files.items():
            target = Path(tree) / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        temporary = path.with_name(f".{path.name}.tmp")
        done = subprocess.run(
            [
                "genisoimage",
                "-o",
                str(temporary),
                "-ldots",
                "-allow-lowercase",
                "-allow-multidot",
                "-l",
                "-publisher",
                "Kumo",
                "-quiet",
                "-J",
                "-r",
                "-V",
                LABEL,
                tree,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
    if done.returncode != 0:
        raise ConfigDriveError(f"genisoimage failed: {done.stderr.strip()}")
    os.replace(temporary, path)
    return path
