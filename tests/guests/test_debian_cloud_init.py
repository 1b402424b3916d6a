"""The full Debian guest runs the real cloud-init, fed by Kumo as OpenStack feeds it.

Each test boots `make guest-debian`'s image (Debian 12, cloud-init 22.4) under
QEMU and reads its serial console. What must show there, as on OpenStack:

- cloud-init's own "Cloud-init v. 22.4… finished at … Datasource …" line, from
  the data source the test expects (config drive, or the metadata service);
- the server's hostname (the user_data script prints ``$(hostname)``);
- the user_data shell script's output line (it ran);
- the SSH key fingerprint cloud-init prints for the default user, equal to the
  sha256 fingerprint of the keypair's public key (the key was installed).

The first test boots the image with the QEMU command line Kumo's driver builds
but no control plane (so the image itself is proven even when the driver is
not); the second boots it as a server through the compute API; the third
without a config drive, through the network agent's metadata proxy.
Slow (one to several minutes per boot under TCG): `make test-guests` only.
"""

from __future__ import annotations

import base64
import hashlib
import re
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kumo.agents.compute.virt.driver import GuestSpec
from kumo.agents.compute.virt.qemu.accel import Accelerator
from kumo.agents.compute.virt.qemu.instance import (
    BootConfig,
    InstanceDir,
    kernel_command_line,
    qemu_command,
)
from kumo.agents.compute.virt.qemu.metadata import instance_metadata
from kumo.common.config import Settings
from kumo.guest.configdrive import write_config_drive
from kumo.guest.debian import DebianImage
from kumo.guest.debian_register import RegisteredDebian, register_debian_image
from kumo.guest.image import GuestImage
from kumo.identity.service.core import Identity
from tests.agents.guestlib import (
    C,
    console_output,
    get_server,
    qemu_settings,
    wait_status,
)
from tests.conftest import issue
from tests.guests.conftest import DEBIAN_BOOT_DEADLINE

pytestmark = pytest.mark.guest

N = "/networking/v2.0"
#: The real cloud-init's final message (the Kumo guest's says "v. kumo").
FINISHED = re.compile(r"Cloud-init v\. (\d[^ ]*) finished at .*?Datasource (DataSource\w+)")
QEMU = "qemu-system-x86_64"
#: The last Debian console a test read (pytest shows only its tail on a failure).
KEPT_CONSOLE = Path(tempfile.gettempdir()) / "kumo-debian-last-console.log"


def key_fingerprint(public_key: str) -> str:
    """The fingerprint cloud-init prints: sha256 of the key blob, colon-separated hex."""
    digest = hashlib.sha256(base64.b64decode(public_key.split()[1])).hexdigest()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def make_public_key(directory: Path) -> str:
    """A fresh ed25519 public key (OpenSSH format)."""
    key = directory / "debian-key"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "debian@kumo", "-f", str(key)],
        check=True,
        timeout=30,
    )
    return (directory / "debian-key.pub").read_text().strip()


def wait_finished(read_console: Callable[[], str], deadline: float) -> tuple[str, float]:
    """Poll the console until cloud-init's finished line; (console, seconds waited)."""
    started = time.monotonic()
    console = ""
    while time.monotonic() - started < deadline:
        console = read_console()
        if FINISHED.search(console):
            return console, time.monotonic() - started
        time.sleep(1.0)
    raise AssertionError(
        f"cloud-init did not finish within {deadline:g} s; console ends:\n{console[-4000:]}"
    )


def assert_real_cloud_init(
    console: str, *, hostname: str, marker: str, public_key: str, datasource: str
) -> str:
    """Everything the module docstring lists is on ``console``; cloud-init's version."""
    KEPT_CONSOLE.write_text(console)  # the whole console, to read when an assertion fails
    finished = FINISHED.search(console)
    assert finished, console[-4000:]
    version, found_source = finished.groups()
    assert re.match(datasource, found_source), f"datasource {found_source}, wanted {datasource}"
    assert "Kumo guest" not in console  # the Kumo initramfs' banner: not what booted
    assert f"{marker} on {hostname}" in console, console[-4000:]
    fingerprints = [
        line for line in console.splitlines() if "ci-info:" in line and "ssh-ed25519" in line
    ]
    assert fingerprints, f"cloud-init printed no authorized key:\n{console[-4000:]}"
    assert any(key_fingerprint(public_key) in line for line in fingerprints), fingerprints
    return version


def user_data_script(marker: str) -> str:
    """A user_data shell script that prints a marker line with the guest's hostname."""
    # cloud-final's output goes to the console too (journal+console).
    return f'#!/bin/sh\necho "{marker} on $(hostname)"\n'


# --- 1. the image itself, on Kumo's QEMU command line with no control plane ---------


def test_debian_image_runs_cloud_init_from_a_config_drive_on_bare_qemu(
    debian_image: DebianImage, accelerator: Accelerator, qemu_state: Path, tmp_path: Path
) -> None:
    server_id = str(uuid.uuid4())
    name = f"deb-{uuid.uuid4().hex[:6]}"
    marker = f"KUMO-DEBIAN-{uuid.uuid4().hex[:8]}"
    public_key = make_public_key(tmp_path)
    files = InstanceDir(qemu_state / "instances", server_id)
    files.path.mkdir(parents=True)
    guest = GuestSpec(
        uuid=server_id,
        name=name,
        vcpus=1,
        memory_mb=1024,
        root_gb=4,
        user_data=base64.b64encode(user_data_script(marker).encode()).decode(),
        key_data=public_key,
        key_name="debian-key",
        hostname=name,
        project_id="p",
    )
    write_config_drive(instance_metadata(guest), files.config_drive)
    subprocess.run(
        [
            *("qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2"),
            *("-b", str(debian_image.root_disk), str(files.disk), "4G"),
        ],
        check=True,
        timeout=60,
    )
    boot = BootConfig(
        uuid=server_id,
        name=name,
        vcpus=1,
        memory_mb=1024,
        root_gb=4,
        machine="q35",
        accel=accelerator.name,
        kernel=str(debian_image.kernel),
        initrd=str(debian_image.initrd),
        kernel_args=kernel_command_line("q35", accelerator.name, None, debian_image.command_line),
    )
    started = time.monotonic()
    # Daemonizes; the qemu_state fixture kills it (its pidfile is under the state dir).
    subprocess.run(qemu_command(QEMU, boot, files), check=True, timeout=60, capture_output=True)

    def console() -> str:
        return files.console_log.read_text(errors="replace") if files.console_log.exists() else ""

    text, _ = wait_finished(console, DEBIAN_BOOT_DEADLINE)
    version = assert_real_cloud_init(
        text,
        hostname=name,
        marker=marker,
        public_key=public_key,
        datasource=r"DataSourceConfigDrive$",
    )
    print(
        f"\nbare QEMU ({accelerator.name}): start -> cloud-init {version} finished: "
        f"{time.monotonic() - started:.1f} s"
    )


# --- 2 and 3. as a server of a Kumo cloud ----------------------------------------------


def _network_agent_missing() -> str | None:
    try:
        from kumo.agents.network.capability import unavailable_reason
    except ImportError:
        return "the network agent is not in this tree"
    return unavailable_reason()


@pytest.fixture
def settings(
    request: pytest.FixtureRequest,
    settings: Settings,
    qemu_state: Path,
    guest_image: GuestImage,
    accelerator: Accelerator,
) -> Settings:
    """The test cloud on a short state dir (unix socket paths), with the QEMU driver.

    Tests marked ``network_agent`` get the Linux network data plane too (skipped
    where it cannot run); the others get none.
    """
    networked = request.node.get_closest_marker("network_agent") is not None
    if networked and (missing := _network_agent_missing()):
        pytest.skip(f"no guest networking here ({missing}): the metadata service is unreachable")
    return qemu_settings(
        settings,
        qemu_state,
        guest_image,
        accelerator,
        sqlite_only="the Debian guest tests run on SQLite only (one slow guest is enough)",
        force_config_drive=False,
        network_agent=networked,
    )


@pytest.fixture
def network_cleanup(settings: Settings) -> Iterator[None]:
    """What this test's data plane made is removed after its cloud stopped, pass or fail."""
    yield
    if settings.network_agent is True:
        from kumo.agents.network.cleanup import remove_owned

        remove_owned(settings.state_dir)


class Api:
    """The compute API as the admin, over the in-process cloud."""

    def __init__(self, client: TestClient, token: str) -> None:
        self.client = client
        self.headers = {"X-Auth-Token": token, "OpenStack-API-Version": "compute 2.37"}

    def post(self, path: str, body: dict[str, Any], *codes: int) -> Any:
        resp = self.client.post(path, json=body, headers=self.headers)
        assert resp.status_code in codes, resp.text
        return resp.json() if resp.content else None

    def server(self, server_id: str) -> dict[str, Any]:
        return get_server(self.client, server_id, self.headers)

    def console(self, server_id: str) -> str:
        return console_output(self.client, server_id, self.headers)

    def wait_active(self, server_id: str) -> dict[str, Any]:
        return wait_status(
            self.client,
            server_id,
            "ACTIVE",
            self.headers,
            deadline=DEBIAN_BOOT_DEADLINE,
            every=1.0,
        )


@pytest.fixture
def debian_cloud(
    network_cleanup: None, cloud: TestClient, ident: Identity, debian_image: DebianImage
) -> Iterator[tuple[Api, RegisteredDebian, str]]:
    """The cloud with the Debian images registered (through the Image API) and a flavor."""
    token = issue(cloud)
    api = Api(cloud, token)
    registered = register_debian_image(cloud, token, debian_image)
    flavor = api.post(
        f"{C}/flavors",
        {"flavor": {"name": f"debian-{uuid.uuid4().hex[:4]}", "ram": 1024, "vcpus": 1, "disk": 4}},
        200,
    )["flavor"]
    yield api, registered, flavor["id"]


def _boot(
    api: Api,
    registered: RegisteredDebian,
    flavor_id: str,
    tmp_path: Path,
    **extra: Any,
) -> tuple[str, str, str, str, float]:
    """Create the server; (server id, name, marker, public key, monotonic start)."""
    public_key = make_public_key(tmp_path)
    key_name = f"key-{uuid.uuid4().hex[:6]}"
    api.post(
        f"{C}/os-keypairs", {"keypair": {"name": key_name, "public_key": public_key}}, 200, 201
    )
    name = f"debian-{uuid.uuid4().hex[:6]}"
    marker = f"KUMO-DEBIAN-{uuid.uuid4().hex[:8]}"
    started = time.monotonic()
    created = api.post(
        f"{C}/servers",
        {
            "server": {
                "name": name,
                "imageRef": registered.image_id,
                "flavorRef": flavor_id,
                "key_name": key_name,
                "user_data": base64.b64encode(user_data_script(marker).encode()).decode(),
                **extra,
            }
        },
        202,
    )
    return created["server"]["id"], name, marker, public_key, started


def test_debian_server_on_kumo_runs_cloud_init_from_its_config_drive(
    debian_cloud: tuple[Api, RegisteredDebian, str],
    debian_image: DebianImage,
    settings: Settings,
    tmp_path: Path,
) -> None:
    api, registered, flavor_id = debian_cloud
    server_id, name, marker, public_key, started = _boot(
        api, registered, flavor_id, tmp_path, config_drive=True, networks="none"
    )
    api.wait_active(server_id)
    boot = BootConfig.load(settings.state_dir / "instances" / server_id / "instance.json")
    # The driver booted the image's own kernel on q35 (not the Kumo guest's, not microvm).
    assert boot.machine == "q35"
    assert "root=/dev/vda" in boot.kernel_args
    assert Path(boot.kernel).read_bytes() == debian_image.kernel.read_bytes()
    assert Path(boot.initrd).read_bytes() == debian_image.initrd.read_bytes()
    console, _ = wait_finished(lambda: api.console(server_id), DEBIAN_BOOT_DEADLINE)
    version = assert_real_cloud_init(
        console,
        hostname=name,
        marker=marker,
        public_key=public_key,
        datasource=r"DataSourceConfigDrive$",
    )
    print(
        f"\nKumo server create -> cloud-init {version} finished (config drive): "
        f"{time.monotonic() - started:.1f} s"
    )


@pytest.mark.network_agent
def test_debian_server_on_kumo_runs_cloud_init_from_the_metadata_service(
    debian_cloud: tuple[Api, RegisteredDebian, str], settings: Settings, tmp_path: Path
) -> None:
    api, registered, flavor_id = debian_cloud
    tag = uuid.uuid4().hex[:6]

    def create(collection: str, resource: str, **body: Any) -> dict[str, Any]:
        created: dict[str, Any] = api.post(f"{N}/{collection}", {resource: body}, 201)[resource]
        return created

    # A private network behind a router (no external gateway: nothing leaves the host).
    net = create("networks", "network", name=f"debian-net-{tag}")
    sub = create("subnets", "subnet", network_id=net["id"], cidr="10.94.0.0/24", ip_version=4)
    router = create("routers", "router", name=f"debian-r-{tag}")
    resp = api.client.put(
        f"{N}/routers/{router['id']}/add_router_interface",
        json={"subnet_id": sub["id"]},
        headers=api.headers,
    )
    assert resp.status_code == 200, resp.text
    server_id, name, marker, public_key, started = _boot(
        api,
        registered,
        flavor_id,
        tmp_path,
        config_drive=False,
        networks=[{"uuid": net["id"]}],
    )
    api.wait_active(server_id)
    instance = settings.state_dir / "instances" / server_id
    assert not (instance / "disk.config").exists()  # no config drive: only the network
    console, _ = wait_finished(lambda: api.console(server_id), DEBIAN_BOOT_DEADLINE)
    version = assert_real_cloud_init(
        console,
        hostname=name,
        marker=marker,
        public_key=public_key,
        datasource=r"DataSourceOpenStack(Local)?$",
    )
    # cloud-init's network table shows the port's fixed IP on the NIC with the port's MAC.
    addresses = [a for nets in api.server(server_id)["addresses"].values() for a in nets]
    assert addresses, "the server has no address"
    fixed, mac = addresses[0]["addr"], addresses[0]["OS-EXT-IPS-MAC:mac_addr"]
    assert any(
        "ci-info:" in line and f" {fixed} " in line and mac in line for line in console.splitlines()
    ), f"{fixed} ({mac}) is not in cloud-init's network table"
    print(
        f"\nKumo server create -> cloud-init {version} finished (metadata service): "
        f"{time.monotonic() - started:.1f} s"
    )
