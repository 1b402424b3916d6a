"""The metadata API at ``/metadata``: what a guest reads from 169.254.169.254.

Guests never reach it directly: the network agent's proxy in the router
namespace forwards their requests with ``X-Instance-ID``, ``X-Tenant-ID`` and
``X-Instance-ID-Signature`` = hex HMAC-SHA256(shared secret, instance id), as
Neutron's metadata agent does for Nova. A request without a valid signature is
refused with 403, so nothing that can reach the API port can read another
server's user_data or keys by guessing ids. The documents are the config
drive's (:mod:`kumo.guest.configdrive`), so both sources tell a guest the same.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from kumo.common.config import Settings
from kumo.common.db import Database
from kumo.common.errors import NotFound
from kumo.compute.service.servers import get_instance, instance_view_for_agent
from kumo.guest import configdrive

#: The versions a guest may ask for, as Nova lists them (newest last).
OPENSTACK_VERSIONS = ("2012-08-10", "2013-04-04", "2013-10-17", "2016-06-30", "2018-08-27")


def signature(secret: str, instance_id: str) -> str:
    """The signature the proxy sends for ``instance_id``."""
    return hmac.new(secret.encode(), instance_id.encode(), hashlib.sha256).hexdigest()


def _instance_metadata(view: dict[str, Any]) -> configdrive.InstanceMetadata:
    from kumo.agents.compute.virt.qemu.metadata import (
        block_device_mapping,
        decode_user_data,
        sanitize_hostname,
    )

    key = view.get("key_data") or None
    flavor = view.get("flavor") or {}
    return configdrive.InstanceMetadata(
        uuid=view["uuid"],
        name=view.get("display_name") or view.get("name") or "",
        hostname=view.get("hostname") or sanitize_hostname(view.get("name") or "", view["uuid"]),
        project_id=view.get("project_id") or "",
        availability_zone=view.get("availability_zone") or "nova",
        launch_index=int(view.get("launch_index") or 0),
        meta=dict(view.get("metadata") or {}),
        key_name=view.get("key_name"),
        key_data=key,
        user_data=decode_user_data(view.get("user_data")),
        flavor_name=str(flavor.get("name", "")),
        block_device_mapping=block_device_mapping(
            int(flavor.get("ephemeral_gb") or 0), int(flavor.get("swap") or 0)
        ),
        ami_id=str(view.get("image_ref") or ""),
        ec2_instance_id=f"i-{view['uuid'][:8]}",
        reservation_id=str(view.get("reservation_id") or ""),
        network_data=_network_data(view),
    )


def _network_data(view: dict[str, Any]) -> dict[str, object]:
    """``network_data.json`` from the server's ``network_info``: a DHCP link per MAC.

    Without links the real cloud-init renders no network config and the guest's
    NIC stays down once its metadata has been read (seen with Debian 12).
    """
    from kumo.agents.compute.virt.driver import GuestSpec
    from kumo.agents.compute.virt.qemu.metadata import network_data

    macs: list[str] = []
    for addresses in (view.get("network_info") or {}).values():
        for address in addresses or []:
            mac = address.get("OS-EXT-IPS-MAC:mac_addr")
            if mac and mac not in macs:
                macs.append(str(mac))
    ports: list[dict[str, Any]] = [{"id": str(i), "mac_address": mac} for i, mac in enumerate(macs)]
    return network_data(
        GuestSpec(uuid=view["uuid"], name="", vcpus=0, memory_mb=0, root_gb=0, ports=ports)
    )


def create_metadata_app(settings: Settings, db: Database) -> Starlette:
    """The metadata app; mounted at ``/metadata`` by :func:`kumo.app.build_app`."""

    def load(instance_id: str, project_id: str | None) -> dict[str, Any]:
        with db.reader() as s:
            instance = get_instance(s, instance_id)
            if project_id and instance.project_id != project_id:
                raise NotFound("No such instance.")
            return instance_view_for_agent(s, instance_id)

    async def serve(request: Request) -> Response:
        instance_id = request.headers.get("x-instance-id", "")
        sent = request.headers.get("x-instance-id-signature", "")
        expected = signature(settings.metadata_proxy_shared_secret_value(), instance_id)
        if not instance_id or not hmac.compare_digest(sent, expected):
            return PlainTextResponse("Invalid proxy request signature.", status_code=403)
        try:
            view = await run_in_threadpool(load, instance_id, request.headers.get("x-tenant-id"))
        except NotFound:
            return PlainTextResponse("Instance not found.", status_code=404)
        files = configdrive.config_drive_files(_instance_metadata(view))
        path = request.path_params.get("path", "").strip("/")
        if path in ("", "openstack"):
            listing = ["latest", *OPENSTACK_VERSIONS] if path else ["openstack", "ec2"]
            return PlainTextResponse("\n".join(listing))
        parts = path.split("/")
        if parts[0] == "openstack" and len(parts) >= 2 and parts[1] in OPENSTACK_VERSIONS:
            parts[1] = configdrive.OPENSTACK_VERSION  # every dated version has the same docs
        if parts[0] == "ec2" and len(parts) >= 2 and parts[1] != "latest":
            parts[1] = configdrive.EC2_VERSION
        wanted = "/".join(parts)
        if wanted in files:
            media = "application/json" if wanted.endswith(".json") else "text/plain"
            return Response(files[wanted], media_type=media)
        folder = wanted + "/"
        names = sorted({f[len(folder) :].split("/")[0] for f in files if f.startswith(folder)})
        if names:
            return PlainTextResponse("\n".join(names))
        return JSONResponse({"message": "Not found."}, status_code=404)

    return Starlette(routes=[Route("/{path:path}", serve, methods=["GET"])])
