"""Guest NICs: one tap per port, created by QEMU and plugged by the network agent.

For each port of a :class:`~kumo.agents.compute.virt.driver.GuestSpec` the guest
gets ``-netdev tap,ifname=ktp-<port id[:11]>,script=no,downscript=no`` and a
virtio-net device with the port's MAC address. QEMU (running as root) creates
the tap when it starts and deletes it when it exits, so a stopped guest leaves
no device behind; the network agent sees the new tap (it watches the host's
links) and puts it on the port's network bridge, where security groups apply.

There is no ``/dev/vhost-net`` on these hosts (GUESTS_AND_NETWORKS.md), so
vhost stays off. Every value written into the command line is validated: a
comma in a port id or MAC would otherwise add QEMU options.
"""

from __future__ import annotations

import logging
import os
import re

from kumo.agents.compute.virt.driver import GuestSpec, VirtError
from kumo.agents.network.linux import names

_MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
_PORT_ID = re.compile(r"^[0-9A-Za-z][0-9A-Za-z-]{0,63}$")
TUN = "/dev/net/tun"

log = logging.getLogger(__name__)


def can_make_taps() -> bool:
    """Whether QEMU started by this process may create taps (root and ``/dev/net/tun``)."""
    return os.geteuid() == 0 and os.path.exists(TUN)


def nic_device(machine: str) -> str:
    """The virtio-net device model: microvm has no PCI bus (virtio-mmio transports)."""
    return "virtio-net-device" if machine == "microvm" else "virtio-net-pci"


def tap_nic_args(guest: GuestSpec, machine: str) -> list[str]:
    """``-netdev``/``-device`` arguments giving ``guest`` one tap NIC per port.

    The NIC order is the ports' order (the first port is the guest's ``eth0``).
    Raises :class:`VirtError` for a port without a usable id or MAC address. Where
    taps cannot be made (not root), the guest boots without NICs, as before
    networking existed, instead of QEMU failing to start.
    """
    args: list[str] = []
    if guest.ports and not can_make_taps():
        log.warning(
            "guest %s boots without its %d NIC(s): cannot create taps here (needs root and %s)",
            guest.uuid,
            len(guest.ports),
            TUN,
        )
        return args
    for index, port in enumerate(guest.ports):
        port_id = str(port.get("id") or "")
        mac = str(port.get("mac_address") or "").lower()
        if not _PORT_ID.match(port_id):
            raise VirtError(f"port {port_id!r} of {guest.uuid} has no valid id")
        if not _MAC.match(mac):
            raise VirtError(f"port {port_id} of {guest.uuid} has no valid MAC address ({mac!r})")
        netdev = f"net{index}"
        args += [
            "-netdev",
            f"tap,id={netdev},ifname={names.tap(port_id)},script=no,downscript=no",
            "-device",
            f"{nic_device(machine)},netdev={netdev},mac={mac}",
        ]
    return args
