"""From the agent's :class:`GuestSpec` to what the guest is told (the config drive)."""

from __future__ import annotations

import base64
import binascii
import re

from kumo.agents.compute.virt.driver import GuestSpec
from kumo.guest.configdrive import InstanceMetadata


def sanitize_hostname(name: str, uuid: str) -> str:
    """A hostname from a server name, as Nova's ``utils.sanitize_hostname`` makes it."""
    hostname = name.lower().replace(" ", "-").replace("_", "-")
    hostname = re.sub(r"[^\w.-]+", "", hostname, flags=re.ASCII)
    hostname = hostname[:63].strip(".-")
    return hostname or f"server-{uuid}"


def decode_user_data(user_data: str | None) -> bytes | None:
    """The API carries user_data base64-encoded; the guest gets the decoded bytes."""
    if user_data is None:
        return None
    try:
        return base64.b64decode(user_data, validate=True)
    except (binascii.Error, ValueError):
        return user_data.encode()


def network_data(guest: GuestSpec) -> dict[str, object]:
    """``network_data.json``: a link per port with a MAC, and its network.

    A port carrying ``ip_address`` and ``netmask`` (and optionally ``gateway`` and
    ``dns_nameservers``, as the network data plane will pass them) becomes a static
    ``ipv4`` network; any other port with a MAC an ``ipv4_dhcp`` one.
    """
    links: list[dict[str, object]] = []
    networks: list[dict[str, object]] = []
    services: list[dict[str, object]] = []
    for index, port in enumerate(guest.ports):
        mac = port.get("mac_address")
        if not mac:
            continue
        link_id = f"tap{str(port.get('id', index))[:11]}"
        links.append(
            {
                "id": link_id,
                "vif_id": port.get("id"),
                "type": "bridge",
                "mtu": port.get("mtu"),
                "ethernet_mac_address": mac,
            }
        )
        network: dict[str, object] = {
            "id": f"network{index}",
            "type": "ipv4_dhcp",
            "link": link_id,
            "network_id": port.get("network_id"),
        }
        if port.get("ip_address") and port.get("netmask"):
            routes = []
            if port.get("gateway"):
                default = "0.0.0.0"  # noqa: S104 - a route destination, not a bind address
                routes.append({"network": default, "netmask": default, "gateway": port["gateway"]})
            network.update(
                {
                    "type": "ipv4",
                    "ip_address": port["ip_address"],
                    "netmask": port["netmask"],
                    "routes": routes,
                }
            )
            for address in port.get("dns_nameservers") or []:
                services.append({"type": "dns", "address": address})
        networks.append(network)
    return {"links": links, "networks": networks, "services": services}


def block_device_mapping(ephemeral_gb: int, swap_mb: int) -> dict[str, str]:
    """EC2 ``block-device-mapping`` as Nova gives it: root vda, then ephemeral, then swap.

    The driver attaches the disks in this order (after the root disk), so the names hold.
    """
    mapping = {"ami": "vda", "root": "/dev/vda"}
    letters = iter("bcdefghijklmnopqrstuvwxyz")
    if ephemeral_gb > 0:
        mapping["ephemeral0"] = f"/dev/vd{next(letters)}"
    if swap_mb > 0:
        mapping["swap"] = f"/dev/vd{next(letters)}"
    return mapping


def instance_metadata(
    guest: GuestSpec, *, availability_zone: str = "nova", domain: str = "novalocal"
) -> InstanceMetadata:
    """The config drive contents for ``guest``.

    Fields the spec does not carry yet (``project_id``, ``key_name``, ``hostname``,
    ``flavor_name``) are read from it when the control plane adds them.
    """
    hostname = getattr(guest, "hostname", None) or sanitize_hostname(guest.name, guest.uuid)
    key_name = getattr(guest, "key_name", None) or ("key" if guest.key_data else None)
    return InstanceMetadata(
        uuid=guest.uuid,
        name=guest.name,
        hostname=f"{hostname}.{domain}" if domain else hostname,
        project_id=str(getattr(guest, "project_id", "") or ""),
        availability_zone=availability_zone,
        meta=dict(guest.metadata),
        key_name=key_name,
        key_data=guest.key_data,
        user_data=decode_user_data(guest.user_data),
        network_data=network_data(guest),
        flavor_name=str(getattr(guest, "flavor_name", "") or ""),
        ami_id=str(guest.image.get("id", "")),
        kernel_id=str(guest.image["kernel_id"]) if guest.image.get("kernel_id") else None,
        ramdisk_id=str(guest.image["ramdisk_id"]) if guest.image.get("ramdisk_id") else None,
        block_device_mapping=block_device_mapping(guest.ephemeral_gb, guest.swap_mb),
        ec2_instance_id=f"i-{guest.uuid[:8]}",
        reservation_id=f"r-{guest.uuid[-8:]}",
    )
