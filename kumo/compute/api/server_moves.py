"""Server actions that rebuild, resize, move or snapshot a server."""

import uuid
from typing import Any

from fastapi import Response
from fastapi.responses import JSONResponse
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from kumo.common.api import service_base
from kumo.common.errors import BadRequest, NotFound, ValidationError
from kumo.common.microversion import Version
from kumo.compute.api.server_action_base import (
    Call,
    begin,
    hand_over,
    lookup,
    new_password,
    simple,
    undo_begin,
)
from kumo.compute.api.server_common import image_lookup, image_store, is_admin, render
from kumo.compute.db.hosts import ComputeNode
from kumo.compute.db.instances import Instance, InstanceMetadata
from kumo.compute.policies import servers as policy
from kumo.compute.schemas.servers import check_metadata
from kumo.compute.service import flavors, images, quotas, server_actions
from kumo.compute.service.server_create import flavor_snapshot, key_data_for

V = Version


# --- rebuild, resize, migrate, evacuate --------------------------------------


def _lookup(call: Call) -> images.ImageLookup:
    return image_lookup(call.request)


REBUILD_FIELDS = {
    "imageRef": V(2, 1),
    "name": V(2, 1),
    "adminPass": V(2, 1),
    "metadata": V(2, 1),
    "OS-DCF:diskConfig": V(2, 1),
    "accessIPv4": V(2, 1),
    "accessIPv6": V(2, 1),
    "preserve_ephemeral": V(2, 1),
    "personality": V(2, 1),
    "description": V(2, 19),
    "key_name": V(2, 54),
    "user_data": V(2, 57),
    "trusted_image_certificates": V(2, 63),
    "hostname": V(2, 90),
}


async def rebuild(call: Call) -> Response:
    arg = call.obj("rebuild")
    version = call.version
    extra = [k for k in arg if k not in REBUILD_FIELDS or version < REBUILD_FIELDS[k]]
    if "personality" in arg and version >= V(2, 57):
        extra.append("personality")
    if extra:
        raise ValidationError(
            "Invalid input for field/attribute rebuild. Additional properties are not allowed "
            f"({', '.join(repr(e) for e in sorted(set(extra)))} was unexpected)"
        )
    if "imageRef" not in arg or not isinstance(arg["imageRef"], str):
        raise ValidationError(
            "Invalid input for field/attribute rebuild. 'imageRef' is a required property"
        )
    name = arg.get("name")
    if name is not None and (not isinstance(name, str) or not name.strip() or len(name) > 255):
        raise ValidationError(f"Invalid input for field/attribute name. Value: {name}.")
    metadata = arg.get("metadata")
    if metadata is not None:
        if not isinstance(metadata, dict):
            raise ValidationError("Invalid input for field/attribute metadata.")
        try:
            check_metadata(metadata)
        except ValueError as exc:
            raise ValidationError(f"Invalid input for field/attribute metadata. {exc}") from None
    try:
        image_id = await images.bootable_image(lookup(call), call.authz.ctx, arg["imageRef"])
    except BadRequest:
        raise BadRequest("Cannot find image for rebuild") from None
    password = arg.get("adminPass") or new_password()

    def prepare(s: Any, instance: Instance) -> None:
        if "key_name" in arg:
            instance.key_data = key_data_for(s, instance.user_id, arg["key_name"])
            instance.key_name = arg["key_name"]
        instance.image_ref = image_id
        if name is not None:
            instance.display_name = name
        if "description" in arg:
            instance.display_description = arg["description"]
        if "user_data" in arg:
            instance.user_data = arg["user_data"]
        if "OS-DCF:diskConfig" in arg:
            instance.auto_disk_config = arg["OS-DCF:diskConfig"] == "AUTO"
        if "accessIPv4" in arg:
            instance.access_ip_v4 = arg["accessIPv4"] or None
        if "accessIPv6" in arg:
            instance.access_ip_v6 = arg["accessIPv6"] or None
        if "trusted_image_certificates" in arg:
            instance.trusted_certs = arg["trusted_image_certificates"]
        if "hostname" in arg:
            instance.hostname = arg["hostname"]
        if metadata is not None:
            s.query(InstanceMetadata).filter_by(instance_uuid=instance.uuid).delete()
            for key, value in metadata.items():
                s.add(InstanceMetadata(instance_uuid=instance.uuid, key=key, value=value))

    instance = await begin(call, policy.SERVERS % "rebuild", "rebuild", "rebuild", prepare)
    await hand_over(
        call,
        instance,
        "rebuild",
        "rebuild",
        image_ref=image_id,
        admin_password=password,
        preserve_ephemeral=bool(arg.get("preserve_ephemeral", False)),
    )
    with call.request.app.state.db.reader() as s:
        fresh = s.get(Instance, call.server_id)
    assert fresh is not None
    view = render(call.request, call.authz, fresh, full=False, show_keypair=version >= V(2, 54))
    view["adminPass"] = password
    if version >= V(2, 57):
        # from 2.57 rebuild answers "user_data" (not the admin's OS-EXT-SRV-ATTR:user_data,
        # which tempest's 2.75 rebuild schema refuses)
        view.pop("OS-EXT-SRV-ATTR:user_data", None)
        view["user_data"] = fresh.user_data
    return JSONResponse({"server": view}, status_code=202)


async def resize(call: Call) -> Response:
    arg = call.obj("resize")
    if "flavorRef" not in arg or set(arg) - {"flavorRef", "OS-DCF:diskConfig"}:
        raise ValidationError(
            "Invalid input for field/attribute resize. 'flavorRef' is a required property"
        )
    flavor_id = str(arg["flavorRef"]).rstrip("/").rsplit("/", 1)[-1]
    admin = is_admin(call.authz)
    disk_config = arg.get("OS-DCF:diskConfig")
    if disk_config is not None and disk_config not in ("AUTO", "MANUAL"):
        raise ValidationError(
            "Invalid input for field/attribute OS-DCF:diskConfig. "
            f"Value: {disk_config}. {disk_config!r} is not one of ['AUTO', 'MANUAL']"
        )

    def prepare(s: Any, instance: Instance) -> None:
        try:
            flavor = flavors.get_visible(s, flavor_id, call.authz.ctx.project_id, admin)
        except NotFound as exc:
            raise BadRequest(exc.message) from None
        if flavor.id == instance.flavor_id:
            raise BadRequest("When resizing, instances must change flavor!")
        quotas.check_deltas(
            s,
            instance.project_id,
            instance.user_id,
            {
                "cores": flavor.vcpus - instance.vcpus,
                "ram": flavor.memory_mb - instance.memory_mb,
            },
        )
        instance.old_flavor = dict(instance.flavor)
        instance.new_flavor = flavor_snapshot(s, flavor)
        if disk_config is not None:  # Nova saves it with the resize request
            instance.auto_disk_config = disk_config == "AUTO"

    instance = await begin(call, policy.SERVERS % "resize", "resize", "resize", prepare)
    await hand_over(call, instance, "resize", "resize", flavor_id=flavor_id)
    return Response(status_code=202)


async def confirm_resize(call: Call) -> Response:
    rule = policy.SERVERS % "confirm_resize"
    instance = await begin(call, rule, "confirmResize", "confirmResize")
    await hand_over(call, instance, "confirmResize", "confirm_resize")
    return Response(status_code=204)


async def revert_resize(call: Call) -> Response:
    rule = policy.SERVERS % "revert_resize"
    return await simple(call, rule, "revertResize", "revert_resize")


async def migrate(call: Call) -> Response:
    arg = call.obj("migrate", optional=True)
    params: dict[str, Any] = {}
    if arg:
        if call.version < V(2, 56) or set(arg) - {"host"}:
            raise ValidationError(
                "Invalid input for field/attribute migrate. Additional properties are not allowed"
            )
        if arg.get("host"):
            call.authz.enforce(rule="os_compute_api:os-migrate-server:migrate:host")
            params["host"] = arg["host"]
    rule = "os_compute_api:os-migrate-server:migrate"
    return await simple(call, rule, "migrate", "migrate", **params)


async def evacuate(call: Call) -> Response:
    arg = call.obj("evacuate", optional=True)
    allowed = {"host", "adminPass"}
    if call.version < V(2, 14):
        allowed |= {"onSharedStorage"}
    if V(2, 29) <= call.version < V(2, 68):
        allowed |= {"force"}
    extra = set(arg) - allowed
    if extra:
        raise ValidationError(
            "Invalid input for field/attribute evacuate. Additional properties are not "
            f"allowed ({', '.join(repr(e) for e in sorted(extra))} was unexpected)"
        )
    password = arg.get("adminPass") or new_password()
    down_time = int(getattr(call.request.app.state.settings, "service_down_time", 60))

    def prepare(s: Any, instance: Instance) -> None:
        if server_actions.host_is_up(s, instance.host, down_time):
            raise BadRequest(f"Compute service of {instance.host} is still in use.")

    instance = await begin(call, "os_compute_api:os-evacuate", "evacuate", "evacuate", prepare)
    params: dict[str, Any] = {"admin_password": password}
    if arg.get("host"):
        params["host"] = arg["host"]
    await hand_over(call, instance, "evacuate", "evacuate", **params)
    if call.version < V(2, 14):
        return JSONResponse({"adminPass": password}, status_code=200)
    return Response(status_code=200)


# --- images ---------------------------------------------------------------


def _image_location(call: Call, image_id: str) -> str:
    base = str(getattr(call.request.app.state.settings, "public_url", "")).rstrip("/")
    return (
        f"{base}/image/v2/images/{image_id}"
        if base
        else f"{service_base(call.request)}/images/{image_id}"
    )


def _image_metadata(metadata: Any) -> dict[str, str]:
    """Nova's metadata rules for a snapshot's properties (an empty key is 400)."""
    if not isinstance(metadata, dict):
        raise ValidationError("Invalid input for field/attribute metadata.")
    try:
        return check_metadata(metadata)
    except ValueError as exc:
        raise ValidationError(f"Invalid input for field/attribute metadata. {exc}") from None


async def _record_image(
    call: Call,
    instance: Instance,
    state_action: str,
    name: str,
    image_type: str,
    metadata: dict[str, Any],
    backup_type: str | None = None,
) -> str:
    """Create the (queued) image record before the host uploads, as Nova's API does.

    The id goes back to the caller at once (``Location`` / ``image_id``), so the image
    must exist in the image API before the response; the host fills it in later.
    """
    ctx = call.authz.ctx
    base: dict[str, Any] | None = None
    if instance.image_ref:
        try:
            base = await image_lookup(call.request)(ctx, instance.image_ref)
        except Exception:  # the base image may be gone: the snapshot does not need it
            base = None
    node = instance.node

    def hypervisor_type() -> str | None:
        with call.request.app.state.db.reader() as s:
            found: str | None = s.scalar(
                select(ComputeNode.hypervisor_type).where(ComputeNode.hypervisor_hostname == node)
            )
            return found

    disk_format = images.snapshot_disk_format(await run_in_threadpool(hypervisor_type))
    body = images.snapshot_body(
        str(uuid.uuid4()),
        name,
        instance.uuid,
        str(ctx.user_id),
        base,
        image_type,
        {str(k): str(v) for k, v in metadata.items()},
        backup_type,
        disk_format,
    )
    try:
        created = await image_store(call.request).create(ctx, body)
    except Exception:
        await undo_begin(call, state_action)
        raise
    return str(created.get("id") or body["id"])


def _image_response(call: Call, image_id: str) -> Response:
    if call.version >= V(2, 45):
        return JSONResponse({"image_id": image_id}, status_code=202)
    return Response(status_code=202, headers={"Location": _image_location(call, image_id)})


async def create_image(call: Call) -> Response:
    arg = call.obj("createImage")
    name = arg.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 255:
        raise ValidationError(
            "Invalid input for field/attribute name. 'name' is a required property"
        )
    metadata = arg.get("metadata") or {}
    if not isinstance(metadata, dict) or set(arg) - {"name", "metadata"}:
        raise ValidationError("Invalid input for field/attribute createImage.")
    _image_metadata(metadata)
    rule = policy.SERVERS % "create_image"
    instance = await begin(call, rule, "createImage", "createImage")
    image_id = await _record_image(call, instance, "createImage", name, "snapshot", metadata)
    await hand_over(
        call, instance, "createImage", "snapshot", image_id=image_id, name=name, metadata=metadata
    )
    return _image_response(call, image_id)


async def create_backup(call: Call) -> Response:
    arg = call.obj("createBackup")
    for key in ("name", "backup_type", "rotation"):
        if key not in arg:
            raise ValidationError(
                f"Invalid input for field/attribute createBackup. '{key}' is a required property"
            )
    try:
        rotation = int(arg["rotation"])
    except (TypeError, ValueError):
        raise ValidationError("Invalid input for field/attribute rotation.") from None
    if rotation < 0:
        raise ValidationError("Invalid input for field/attribute rotation.")
    instance = await begin(call, "os_compute_api:os-create-backup", "createBackup", "createBackup")
    metadata = _image_metadata(arg.get("metadata") or {})
    backup_type = str(arg["backup_type"])
    image_id = await _record_image(
        call, instance, "createBackup", str(arg["name"]), "backup", metadata, backup_type
    )
    await _rotate_backups(call, instance.uuid, backup_type, rotation, image_id)
    await hand_over(
        call,
        instance,
        "createBackup",
        "backup",
        image_id=image_id,
        name=str(arg["name"]),
        backup_type=backup_type,
        rotation=rotation,
        metadata=metadata,
    )
    return _image_response(call, image_id)


async def _rotate_backups(
    call: Call, instance_uuid: str, backup_type: str, rotation: int, new_id: str
) -> None:
    """Keep only the newest ``rotation`` backups of this type (the new one included).

    Nova's compute host rotates after the upload; Kumo does it when the new record is
    made, so the image list is the same once the backup is active.
    """
    store = image_store(call.request)
    ctx = call.authz.ctx
    backups = [b for b in await store.backups(ctx, instance_uuid, backup_type) if b["id"] != new_id]
    for old in backups[max(rotation - 1, 0) :]:
        await store.delete(ctx, str(old["id"]))
