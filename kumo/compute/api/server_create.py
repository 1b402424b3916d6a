"""POST /servers: boot servers.

Create validates the body (pydantic, then Nova's microversion gates), the
image (through the image API), flavor, key pair and quotas, writes the
instances in BUILD/scheduling and asks the scheduler to place them
(``compute_rpc.schedule_and_build``, booklet step 8).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import logging
import secrets
import socket
import string
import traceback
import uuid
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from kumo.common.api import Authz, AuthzDep, route, service_base
from kumo.common.db import utcnow
from kumo.common.errors import BadRequest, Forbidden, NotFound, ValidationError
from kumo.common.faults import fault_point
from kumo.common.microversion import Version
from kumo.compute import journey, states
from kumo.compute.api.server_common import (
    db,
    image_lookup,
    is_admin,
    request_id,
    security_group_check,
    since,
)
from kumo.compute.api.server_views import server_links
from kumo.compute.api.versions import compute_version
from kumo.compute.db.instances import Instance
from kumo.compute.policies import servers as policy
from kumo.compute.schemas.servers import ServerCreateBody, ServerCreateRequest
from kumo.compute.service import flavors, images, instance_actions
from kumo.compute.service import servers as servers_service
from kumo.compute.service.server_create import BuildRequest, create_instances

log = logging.getLogger("kumo.compute.servers")
#: The host name recorded on the API's own journey events.
API_HOST = socket.gethostname()
router = APIRouter()

BASE = "/v2.1/servers"
V = Version
_TRUE = ("true", "1", "yes", "on", "y", "t")
_FALSE = ("false", "0", "no", "off", "n", "f")


# --- create -----------------------------------------------------------------


def _password() -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(12))


def _bool(value: Any, what: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in ("", *_FALSE):
        return False
    raise BadRequest(f"Invalid {what} provided.")


def _gates(request: Request, body: ServerCreateBody) -> None:
    given = body.model_fields_set
    gated = {
        "description": V(2, 19),
        "tags": V(2, 52),
        "trusted_image_certificates": V(2, 63),
        "host": V(2, 74),
        "hypervisor_hostname": V(2, 74),
        "hostname": V(2, 90),
    }
    for name, minimum in gated.items():
        if name in given:
            since(request, name, minimum, "server")
    if "personality" in given and compute_version(request) >= V(2, 57):
        raise ValidationError(
            "Invalid input for field/attribute server. Additional properties are not "
            "allowed ('personality' was unexpected)"
        )


def _networks(request: Request, body: ServerCreateBody) -> Any:
    version = compute_version(request)
    nets = body.networks
    if isinstance(nets, str):
        if version < V(2, 37):
            raise ValidationError(
                f"Invalid input for field/attribute networks. Value: {nets}. "
                f"'{nets}' is not of type 'array'"
            )
        return nets
    if nets is None:
        if version >= V(2, 37):
            raise ValidationError(
                "Invalid input for field/attribute server. 'networks' is a required property"
            )
        return "auto"
    out: list[dict[str, Any]] = []
    for net in nets:
        for kind, value in (("network", net.uuid), ("port", net.port)):
            if value is not None and not _uuid_like(value):
                what = "network uuid" if kind == "network" else "port id"
                raise BadRequest(f"Bad networks format: {what} is not in proper format ({value})")
        if net.port is None and net.uuid is None:
            raise BadRequest("Bad network format: missing 'uuid'")
        # Nova allows the same network more than once (one port on it per entry).
        out.append(net.model_dump(exclude_none=True))
    return out


def _uuid_like(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _block_devices(body: ServerCreateBody) -> list[dict[str, Any]]:
    out = []
    for bdm in body.block_device_mapping_v2 or []:
        if bdm.source_type is None:
            raise BadRequest("Block Device Mapping is Invalid: source_type is required.")
        destination = bdm.destination_type or (
            "volume" if bdm.source_type in ("volume", "snapshot") else "local"
        )
        if bdm.source_type in ("volume", "snapshot") and destination != "volume":
            raise BadRequest(
                "Block Device Mapping is Invalid: "
                f"source {bdm.source_type} needs destination_type volume."
            )
        source_uuid = bdm.uuid or bdm.volume_id or bdm.snapshot_id or bdm.image_id
        if bdm.source_type != "blank" and not source_uuid:
            raise BadRequest("Block Device Mapping is Invalid: missing uuid of the source.")
        try:
            boot_index = None if bdm.boot_index is None else int(bdm.boot_index)
        except ValueError:
            raise BadRequest(
                f"Block Device Mapping is Invalid: invalid boot_index {bdm.boot_index!r}."
            ) from None
        out.append(
            {
                "source_type": bdm.source_type,
                "destination_type": destination,
                "source_uuid": source_uuid,
                "volume_id": source_uuid if bdm.source_type == "volume" else None,
                "volume_size": bdm.volume_size,
                "volume_type": bdm.volume_type,
                "boot_index": boot_index,
                "device_name": bdm.device_name,
                "device_type": bdm.device_type,
                "disk_bus": bdm.disk_bus,
                "guest_format": bdm.guest_format,
                "delete_on_termination": bdm.delete_on_termination,
                "tag": bdm.tag,
            }
        )
    return out


def _availability_zone(
    authz: Authz, body: ServerCreateBody, own: dict[str, Any]
) -> tuple[str | None, str | None, str | None]:
    """Split ``zone[:host[:node]]``; naming a host needs ``create:forced_host``."""
    value = body.availability_zone
    if not value:
        return None, None, None
    parts = value.split(":")
    if len(parts) > 3:
        raise BadRequest(f"Unable to parse availability_zone '{value}'")
    zone = parts[0] or None
    host = parts[1] if len(parts) > 1 and parts[1] else None
    node = parts[2] if len(parts) > 2 and parts[2] else None
    if host or node:
        authz.enforce(own, rule=policy.SERVERS % "create:forced_host")
    return zone, host, node


def _user_data(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest("User data needs to be valid base 64.") from None
    return value


@route(router, "POST", BASE, policy=policy.SERVERS % "create", status_code=202)
async def create_server(
    request: Request, body: ServerCreateRequest, authz: Authz = AuthzDep
) -> Response:
    """Boot one or more servers (202; the build goes on in the background)."""
    received = utcnow()  # booklet step 3: the request arrived
    fault_point(journey.event_name("3"))
    ctx = authz.ctx
    server = body.server
    _gates(request, server)
    own = {
        "project_id": ctx.project_id,
        "user_id": ctx.user_id,
        "availability_zone": server.availability_zone,
    }
    authz.enforce(own)
    if server.trusted_image_certificates:
        authz.enforce(own, rule=policy.SERVERS % "create:trusted_certs")
    zone, forced_host, forced_node = _availability_zone(authz, server, own)
    if server.host or server.hypervisor_hostname:
        authz.enforce(own, rule=policy.REQUESTED_DESTINATION)
    networks = _networks(request, server)
    if isinstance(networks, list) and networks:
        authz.enforce(own, rule=policy.SERVERS % "create:attach_network")
    bdms = _block_devices(server)
    if any(b["destination_type"] == "volume" for b in bdms):
        authz.enforce(own, rule=policy.SERVERS % "create:attach_volume")
    min_count = server.min_count or 1
    max_count = server.max_count or min_count
    if min_count > max_count:
        raise BadRequest("min_count must be <= max_count")
    if max_count > 1 and isinstance(networks, list):
        if any("port" in n for n in networks):
            raise BadRequest(
                "Unable to launch multiple instances with a single configured port ID. "
                "Please launch your instance one by one with different ports."
            )
        if any("fixed_ip" in n for n in networks):
            raise BadRequest("max_count cannot be greater than 1 if an fixed_ip is specified.")

    image_ref = server.imageRef or ""
    image_meta: dict[str, Any] | None = None
    if image_ref:
        image_meta = await images.bootable_image_meta(image_lookup(request), ctx, image_ref)
        image_ref = str(image_meta["id"])
    elif not bdms:
        raise BadRequest("Missing imageRef attribute")
    flavor_id = str(server.flavorRef).rstrip("/").rsplit("/", 1)[-1]
    config_drive = (
        _bool(server.config_drive, "config_drive") if server.config_drive is not None else False
    )
    user_data = _user_data(server.user_data)
    admin_pass = server.adminPass or _password()
    hints = body.scheduler_hints or body.legacy_scheduler_hints or {}
    version = compute_version(request)
    security_groups = sorted({g.name for g in server.security_groups or []}) or ["default"]
    if missing := await security_group_check(request)(ctx, security_groups):
        # Nova's SecurityGroupNotFound, answered 400 on create
        raise BadRequest(f"Security group {missing[0]} not found.")
    rid = request_id(request)
    admin = is_admin(authz)

    def write() -> tuple[list[Instance], str]:
        with db(request).writer() as s:
            try:
                flavor = flavors.get_visible(s, flavor_id, ctx.project_id, admin)
            except NotFound as exc:
                raise BadRequest(exc.message) from None
            volume_backed = any(
                b["boot_index"] == 0 and b["destination_type"] == "volume" for b in bdms
            )
            if image_meta is not None and not volume_backed:
                images.check_image_fits_flavor(image_meta, flavor.memory_mb, flavor.root_gb)
            zero_disk_ok = authz.allows(own, rule=policy.SERVERS % "create:zero_disk_flavor")
            if flavor.root_gb == 0 and not volume_backed and not zero_disk_ok:
                raise Forbidden(
                    "Only volume-backed servers are allowed for flavors with zero disk."
                )
            req = BuildRequest(
                project_id=str(ctx.project_id),
                user_id=str(ctx.user_id),
                name=server.name,
                flavor=flavor,
                image_ref=image_ref,
                request_id=rid,
                description=server.description if version >= V(2, 19) else server.name,
                min_count=min_count,
                max_count=max_count,
                key_name=server.key_name,
                user_data=user_data,
                metadata=dict(server.metadata or {}),
                config_drive=config_drive,
                availability_zone=zone,
                forced_host=forced_host,
                forced_node=forced_node,
                requested_host=server.host,
                requested_node=server.hypervisor_hostname,
                networks=networks,
                security_groups=security_groups,
                block_devices=bdms,
                auto_disk_config=server.disk_config == "AUTO",
                access_ip_v4=server.accessIPv4,
                access_ip_v6=server.accessIPv6,
                tags=list(server.tags or []),
                scheduler_hints=dict(hints),
                trusted_certs=server.trusted_image_certificates,
                hostname=server.hostname,
            )
            written = utcnow()
            made, resv = create_instances(s, req)
            for instance in made:
                for step, started in (("3", received), ("6-7", written)):
                    instance_actions.record_event(
                        s, instance.uuid, rid, journey.event_name(step), API_HOST, started, utcnow()
                    )
            return made, resv

    instances, resv = await run_in_threadpool(write)
    fault_point(journey.event_name("6-7"))
    await _schedule(request, authz, [i.uuid for i in instances], rid)

    if server.return_reservation_id is not None and _bool(
        server.return_reservation_id, "return_reservation_id"
    ):
        return JSONResponse({"reservation_id": resv}, status_code=202)
    first = instances[0]
    links = server_links(service_base(request), first.uuid)
    out: dict[str, Any] = {
        "id": first.uuid,
        "links": links,
        "OS-DCF:diskConfig": "AUTO" if first.auto_disk_config else "MANUAL",
        "security_groups": [{"name": n} for n in security_groups],
        "adminPass": admin_pass,
    }
    return JSONResponse({"server": out}, status_code=202, headers={"Location": links[0]["href"]})


async def _schedule(request: Request, authz: Authz, uuids: list[str], rid: str) -> None:
    """Hand the new instances to the scheduler; a control plane failure puts them in ERROR."""
    rpc = getattr(request.app.state, "compute_rpc", None)
    asked = utcnow()  # booklet step 8: the API asks the scheduler (an rpc call)
    fault_point(journey.event_name("8"))
    try:
        if rpc is None:
            raise RuntimeError("No compute control plane (scheduler) is running.")
        await rpc.schedule_and_build(authz.ctx, uuids, rid)
    except Exception as exc:  # the API answers 202 either way, as Nova does
        log.warning("scheduling %s failed: %s", uuids, exc)
        reason = str(exc)[:200]
        trace = "".join(traceback.format_exception(exc))
        await run_in_threadpool(_record_step_8, request, uuids, rid, asked, "Error", trace)

        def fail() -> None:
            with db(request).writer() as s:
                for server_uuid in uuids:
                    instance = s.get(Instance, server_uuid)
                    if instance is None or instance.vm_state != states.BUILDING or instance.host:
                        continue
                    servers_service.set_state(
                        s, server_uuid, vm_state=states.ERROR, task_state=None
                    )
                    servers_service.set_fault(
                        s, server_uuid, 500, "No valid host was found. " + reason
                    )

        await run_in_threadpool(fail)
        return
    await run_in_threadpool(_record_step_8, request, uuids, rid, asked, "Success", None)


def _record_step_8(
    request: Request,
    uuids: list[str],
    rid: str,
    asked: dt.datetime,
    result: str,
    trace: str | None,
) -> None:
    with db(request).writer() as s:
        for server_uuid in uuids:
            instance_actions.record_event(
                s,
                server_uuid,
                rid,
                journey.event_name("8"),
                API_HOST,
                asked,
                utcnow(),
                result=result,
                traceback=trace,
            )
