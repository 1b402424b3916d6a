"""The config drive: ISO 9660 `config-2`, laid out as Nova lays it out (read back)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from kumo.guest.configdrive import InstanceMetadata, config_drive_files, write_config_drive

pytestmark = pytest.mark.skipif(
    shutil.which("genisoimage") is None or shutil.which("isoinfo") is None,
    reason="genisoimage is not installed (make debs)",
)

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGp7 demo@kumo"


def _instance(**changes: object) -> InstanceMetadata:
    fields: dict[str, object] = {
        "uuid": "0b5a9c0e-8d2e-4bde-9a53-3e6b8f5f2a11",
        "name": "web 1",
        "hostname": "web-1.novalocal",
        "project_id": "6f70656e737461636b20342065766572",
        "availability_zone": "nova",
        "meta": {"role": "web"},
        "key_name": "demo",
        "key_data": KEY,
        "user_data": b"#!/bin/sh\necho hi\n",
        "network_data": {
            "links": [
                {"id": "tap0", "type": "bridge", "ethernet_mac_address": "fa:16:3e:00:00:01"}
            ],
            "networks": [
                {
                    "id": "network0",
                    "type": "ipv4",
                    "link": "tap0",
                    "ip_address": "10.0.0.5",
                    "netmask": "255.255.255.0",
                    "routes": [],
                }
            ],
            "services": [{"type": "dns", "address": "10.0.0.2"}],
        },
        "flavor_name": "m1.tiny",
        "random_seed": "c2VlZA==",
    }
    fields.update(changes)
    return InstanceMetadata(**fields)  # type: ignore[arg-type]


def _iso_files(iso: Path) -> list[str]:
    done = subprocess.run(
        ["isoinfo", "-R", "-f", "-i", str(iso)], capture_output=True, text=True, check=True
    )
    return sorted(done.stdout.split())


def _iso_read(iso: Path, name: str) -> bytes:
    done = subprocess.run(
        ["isoinfo", "-R", "-i", str(iso), "-x", name], capture_output=True, check=True
    )
    return done.stdout


@pytest.fixture
def iso(tmp_path: Path) -> Path:
    return write_config_drive(_instance(), tmp_path / "disk.config")


def test_volume_is_iso9660_labelled_config_2(iso: Path) -> None:
    done = subprocess.run(["isoinfo", "-d", "-i", str(iso)], capture_output=True, text=True)
    assert "Volume id: config-2" in done.stdout
    assert "Joliet" in done.stdout
    assert "Rock Ridge" in done.stdout


def test_layout_matches_nova(iso: Path) -> None:
    files = [f for f in _iso_files(iso) if f.count("/") == 3]
    expected = [
        f"/ec2/{v}/{name}"
        for v in ("2009-04-04", "latest")
        for name in ("meta-data.json", "user-data")
    ] + [
        f"/openstack/{v}/{name}"
        for v in ("2018-08-27", "latest")
        for name in (
            "meta_data.json",
            "network_data.json",
            "user_data",
            "vendor_data.json",
            "vendor_data2.json",
        )
    ]
    assert files == sorted(expected)


def test_dated_folder_is_identical_to_latest(iso: Path) -> None:
    for name in ("meta_data.json", "network_data.json", "user_data", "vendor_data.json"):
        assert _iso_read(iso, f"/openstack/2018-08-27/{name}") == _iso_read(
            iso, f"/openstack/latest/{name}"
        )


def test_meta_data_fields(iso: Path) -> None:
    meta = json.loads(_iso_read(iso, "/openstack/latest/meta_data.json"))
    assert meta["uuid"] == "0b5a9c0e-8d2e-4bde-9a53-3e6b8f5f2a11"
    assert meta["name"] == "web 1"
    assert meta["hostname"] == "web-1.novalocal"
    assert meta["public_keys"] == {"demo": KEY}
    assert meta["keys"] == [{"name": "demo", "type": "ssh", "data": KEY}]
    assert meta["availability_zone"] == "nova"
    assert meta["project_id"] == "6f70656e737461636b20342065766572"
    assert meta["launch_index"] == 0
    assert meta["meta"] == {"role": "web"}
    assert meta["devices"] == []
    assert meta["random_seed"] == "c2VlZA=="


def test_network_user_and_vendor_data(iso: Path) -> None:
    network = json.loads(_iso_read(iso, "/openstack/latest/network_data.json"))
    assert network["links"][0]["ethernet_mac_address"] == "fa:16:3e:00:00:01"
    assert network["networks"][0]["ip_address"] == "10.0.0.5"
    assert network["services"] == [{"type": "dns", "address": "10.0.0.2"}]
    assert _iso_read(iso, "/openstack/latest/user_data") == b"#!/bin/sh\necho hi\n"
    assert json.loads(_iso_read(iso, "/openstack/latest/vendor_data.json")) == {}
    assert json.loads(_iso_read(iso, "/openstack/latest/vendor_data2.json")) == {"static": {}}


def test_ec2_meta_data(iso: Path) -> None:
    ec2 = json.loads(_iso_read(iso, "/ec2/2009-04-04/meta-data.json"))
    assert ec2["hostname"] == "web-1.novalocal"
    assert ec2["instance-type"] == "m1.tiny"
    assert ec2["public-keys"] == {"0": {"openssh-key": KEY}}
    assert ec2["placement"] == {"availability-zone": "nova"}
    assert _iso_read(iso, "/ec2/latest/user-data") == b"#!/bin/sh\necho hi\n"


def test_without_user_data_or_key() -> None:
    files = config_drive_files(_instance(user_data=None, key_name=None, key_data=None))
    assert "openstack/latest/user_data" not in files
    assert "ec2/latest/user-data" not in files
    meta = json.loads(files["openstack/latest/meta_data.json"])
    assert "public_keys" not in meta
    assert "keys" not in meta


def test_files_are_a_pure_function_of_the_description() -> None:
    assert config_drive_files(_instance()) == config_drive_files(_instance())
