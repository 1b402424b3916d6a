"""POST /servers/{id}/action: every server action of Nova's API.

Each action checks its own policy rule, then (through
:func:`kumo.compute.service.server_actions.begin_action`) the lock, the state
table and the compare-and-set of the task_state, records the instance action
and hands the work to the compute host (``compute_rpc.run_action``).
"""

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from kumo.common.api import Authz, AuthzDep, route
from kumo.common.errors import BadRequest, Conflict, NotFound, ValidationError
from kumo.common.microversion import Version
from kumo.compute import states
from kumo.compute.api.floating_ips import ACTIONS as FLOATING_IP_ACTIONS
from kumo.compute.api.remote_consoles import LEGACY_ACTIONS as LEGACY_CONSOLE_ACTIONS
from kumo.compute.api.security_groups import port_groups
from kumo.compute.api.server_action_base import Call, begin, hand_over, lookup, new_password, simple
from kumo.compute.api.server_common import load_server, security_group_check, target
from kumo.compute.api.server_moves import (
    confirm_resize,
    create_backup,
    create_image,
    evacuate,
    migrate,
    rebuild,
    resize,
    revert_resize,
)
from kumo.compute.api.servers import delete_server_now
from kumo.compute.db.instances import Instance
from kumo.compute.policies import servers as policy
from kumo.compute.schemas.servers import ActionRequest
from kumo.compute.service import images, instance_actions, server_actions
from kumo.compute.service.servers import set_state

router = APIRouter()
V = Version


# --- power and lifecycle ----------------------------------------------------


async def stop(call: Call) -> Response:
    return await simple(call, policy.SERVERS % "stop", "stop", "stop")


async def start(call: Call) -> Response:
    return await simple(call, policy.SERVERS % "start", "start", "start")


async def reboot(call: Call) -> Response:
    arg = call.obj("reboot")
    kind = str(arg.get("type", "")).upper()
    if kind not in ("SOFT", "HARD") or set(arg) - {"type"}:
        raise ValidationError(
            "Invalid input for field/attribute type. Value: "
            f"{arg.get('type')}. '{arg.get('type')}' is not one of ['HARD', 'Hard', 'hard', "
            "'SOFT', 'Soft', 'soft']"
        )
    action = "reboot" if kind == "SOFT" else "reboot_hard"
    return await simple(call, policy.SERVERS % "reboot", action, "reboot", reboot_type=kind)


async def pause(call: Call) -> Response:
    return await simple(call, "os_compute_api:os-pause-server:pause", "pause", "pause")


async def unpause(call: Call) -> Response:
    return await simple(call, "os_compute_api:os-pause-server:unpause", "unpause", "unpause")


async def suspend(call: Call) -> Response:
    return await simple(call, "os_compute_api:os-suspend-server:suspend", "suspend", "suspend")


async def resume(call: Call) -> Response:
    return await simple(call, "os_compute_api:os-suspend-server:resume", "resume", "resume")


async def shelve(call: Call) -> Response:
    return await simple(call, "os_compute_api:os-shelve:shelve", "shelve", "shelve")


async def shelve_offload(call: Call) -> Response:
    rule = "os_compute_api:os-shelve:shelve_offload"
    return await simple(call, rule, "shelveOffload", "shelve_offload")


async def unshelve(call: Call) -> Response:
    arg = call.obj("unshelve", optional=True)
    params: dict[str, Any] = {}
    if arg:
        if call.version < V(2, 77):
            raise ValidationError(
                "Invalid input for field/attribute unshelve. Value: "
                f"{arg}. {arg!r} is not of type 'null'"
            )
        allowed = {"availability_zone"} | ({"host"} if call.version >= V(2, 91) else set())
        extra = set(arg) - allowed
        if extra:
            raise ValidationError(
                "Invalid input for field/attribute unshelve. Additional properties are not "
                f"allowed ({', '.join(repr(e) for e in sorted(extra))} was unexpected)"
            )
        params = {k: arg[k] for k in allowed if k in arg}
    if params.get("host"):
        call.authz.enforce(rule="os_compute_api:os-shelve:unshelve_to_host")
    return await simple(call, "os_compute_api:os-shelve:unshelve", "unshelve", "unshelve", **params)


async def rescue(call: Call) -> Response:
    arg = call.obj("rescue", optional=True)
    password = arg.get("adminPass") or new_password()
    params: dict[str, Any] = {"admin_password": password}
    if arg.get("rescue_image_ref"):
        params["rescue_image_ref"] = await images.bootable_image(
            lookup(call), call.authz.ctx, str(arg["rescue_image_ref"])
        )
    instance = await begin(call, "os_compute_api:os-rescue", "rescue", "rescue")
    await hand_over(call, instance, "rescue", "rescue", **params)
    return JSONResponse({"adminPass": password}, status_code=200)


async def unrescue(call: Call) -> Response:
    return await simple(call, "os_compute_api:os-unrescue", "unrescue", "unrescue")


# --- lock -------------------------------------------------------------------


async def lock(call: Call) -> Response:
    arg = call.obj("lock", optional=True)
    reason = None
    if arg:
        if call.version < V(2, 73) or set(arg) - {"locked_reason"}:
            raise ValidationError(
                "Invalid input for field/attribute lock. Additional properties are not allowed"
            )
        reason = arg.get("locked_reason")
        if reason is not None and (not isinstance(reason, str) or len(reason) > 255):
            raise ValidationError("Invalid input for field/attribute locked_reason.")
    ctx = call.authz.ctx

    def work() -> None:
        with call.request.app.state.db.writer() as s:
            instance = load_server(s, call.authz, call.server_id)
            call.authz.enforce(target(instance), rule="os_compute_api:os-lock-server:lock")
            owner = instance.project_id == ctx.project_id
            if instance.locked and owner:
                return  # the owner re-locking changes nothing (Nova)
            instance_actions.start_action(
                s, call.server_id, "lock", call.rid, ctx.user_id, ctx.project_id
            )
            server_actions.set_lock(
                s, call.server_id, locked=True, by="owner" if owner else "admin", reason=reason
            )

    await run_in_threadpool(work)
    return Response(status_code=202)


async def unlock(call: Call) -> Response:
    ctx = call.authz.ctx

    def work() -> None:
        with call.request.app.state.db.writer() as s:
            instance = load_server(s, call.authz, call.server_id)
            tgt = target(instance)
            call.authz.enforce(tgt, rule="os_compute_api:os-lock-server:unlock")
            expected = "owner" if instance.project_id == ctx.project_id else "admin"
            if instance.locked and instance.locked_by != expected:
                call.authz.enforce(tgt, rule="os_compute_api:os-lock-server:unlock:unlock_override")
            instance_actions.start_action(
                s, call.server_id, "unlock", call.rid, ctx.user_id, ctx.project_id
            )
            server_actions.set_lock(s, call.server_id, locked=False, by=None, reason=None)

    await run_in_threadpool(work)
    return Response(status_code=202)


# --- console, admin, delete --------------------------------------------------


async def console_output(call: Call) -> Response:
    arg = call.obj("os-getConsoleOutput", optional=True)
    length = arg.get("length")
    if length is not None:
        try:
            length = int(length)
        except (TypeError, ValueError):
            raise ValidationError("Invalid input for field/attribute length.") from None
        if length < -1:
            raise ValidationError("Invalid input for field/attribute length.")

    def check() -> Instance:
        with call.request.app.state.db.reader() as s:
            instance = load_server(s, call.authz, call.server_id)
            call.authz.enforce(target(instance), rule="os_compute_api:os-console-output")
            states.check_action(
                "os-getConsoleOutput",
                call.server_id,
                instance.vm_state,
                instance.task_state,
                instance.launched_at is not None,
            )
            if not instance.host:
                raise Conflict(f"Instance {call.server_id} is not ready")
            return instance

    instance = await run_in_threadpool(check)
    rpc = call.request.app.state.compute_rpc
    try:
        text = await rpc.run_action(
            call.authz.ctx,
            instance.host,
            call.server_id,
            "get_console_output",
            call.rid,
            length=length,
        )
    except Exception as exc:
        raise Conflict(f"Instance {call.server_id} is not ready: {exc}") from exc
    output = text or ""
    if length is not None and length >= 0:
        # Nova's _tail_log: split on "\n" and keep the last ``length`` pieces, so a
        # trailing newline counts as one (empty) line, as tempest's check expects.
        output = "\n".join(output.split("\n")[-length:]) if length else ""
    return JSONResponse({"output": output}, status_code=200)


async def reset_state(call: Call) -> Response:
    arg = call.obj("os-resetState")
    state = arg.get("state")
    if state not in ("active", "error") or set(arg) - {"state"}:
        raise ValidationError(
            f"Invalid input for field/attribute state. Value: {state}. "
            f"{state!r} is not one of ['active', 'error']"
        )

    def work() -> None:
        with call.request.app.state.db.writer() as s:
            instance = load_server(s, call.authz, call.server_id)
            call.authz.enforce(target(instance), rule="os_compute_api:os-admin-actions:reset_state")
            instance_actions.start_action(
                s,
                call.server_id,
                "resetState",
                call.rid,
                call.authz.ctx.user_id,
                call.authz.ctx.project_id,
            )
            set_state(s, call.server_id, vm_state=str(state), task_state=None)

    await run_in_threadpool(work)
    return Response(status_code=202)


async def force_delete(call: Call) -> Response:
    call.authz.enforce(rule="os_compute_api:os-deferred-delete:force")
    await delete_server_now(call.request, call.authz, call.server_id, "forceDelete")
    return Response(status_code=202)


async def restore(call: Call) -> Response:
    instance = await begin(call, "os_compute_api:os-deferred-delete:restore", "restore", "restore")
    del instance  # never reached today: servers are not soft-deleted (reclaim interval 0)
    return Response(status_code=202)


def _security_group_name(call: Call, action: str) -> str:
    arg = call.obj(action)
    name = arg.get("name")
    if not isinstance(name, str) or not name.strip():
        raise BadRequest("Security group name cannot be empty")
    return name.strip()


async def add_security_group(call: Call) -> Response:
    """Add a security group (by name) to the server's list.

    Kumo records the list on the instance (what the server view shows) and, as Nova
    does, adds the group to the server's ports in the networking API.
    """
    name = _security_group_name(call, "addSecurityGroup")
    if await security_group_check(call.request)(call.authz.ctx, [name]):
        raise NotFound(f"Security group {name} not found.")
    await _change_security_groups(call, "os_compute_api:os-security-groups:add", name, add=True)
    await port_groups(call.request)(call.authz.ctx, call.server_id, name, True)
    return Response(status_code=202)


async def remove_security_group(call: Call) -> Response:
    """Remove a security group (by name) from the server's list."""
    name = _security_group_name(call, "removeSecurityGroup")
    await _change_security_groups(call, "os_compute_api:os-security-groups:remove", name, add=False)
    await port_groups(call.request)(call.authz.ctx, call.server_id, name, False)
    return Response(status_code=202)


async def _change_security_groups(call: Call, rule: str, name: str, *, add: bool) -> None:
    def work() -> None:
        with call.request.app.state.db.writer() as s:
            instance = load_server(s, call.authz, call.server_id)
            call.authz.enforce(target(instance), rule=rule)
            groups = list(instance.security_groups or [])
            if add and name in groups:
                raise BadRequest(
                    f"Security group {name} is already associated with the instance "
                    f"{call.server_id}"
                )
            if not add and name not in groups:
                raise BadRequest(
                    f"Security group {name} not associated with the instance {call.server_id}"
                )
            instance.security_groups = [*groups, name] if add else [g for g in groups if g != name]

    await run_in_threadpool(work)


async def inject_network_info(call: Call) -> Response:
    """Admins: have the host re-inject the network info into the guest (202).

    Kumo's hosts write the network info when they build the guest and have nothing to
    re-inject later (as with Nova's libvirt driver, for which this is a no-op), so the
    API checks the server and the policy and answers.
    """

    def work() -> None:
        with call.request.app.state.db.reader() as s:
            instance = load_server(s, call.authz, call.server_id)
            rule = "os_compute_api:os-admin-actions:inject_network_info"
            call.authz.enforce(target(instance), rule=rule)

    await run_in_threadpool(work)
    return Response(status_code=202)


ACTIONS: dict[str, Callable[[Call], Awaitable[Response]]] = {
    "injectNetworkInfo": inject_network_info,
    "addSecurityGroup": add_security_group,
    **FLOATING_IP_ACTIONS,
    "removeSecurityGroup": remove_security_group,
    "os-stop": stop,
    "os-start": start,
    "reboot": reboot,
    "pause": pause,
    "unpause": unpause,
    "suspend": suspend,
    "resume": resume,
    "lock": lock,
    "unlock": unlock,
    "rebuild": rebuild,
    "resize": resize,
    "confirmResize": confirm_resize,
    "revertResize": revert_resize,
    "createImage": create_image,
    "createBackup": create_backup,
    "rescue": rescue,
    "unrescue": unrescue,
    "shelve": shelve,
    "shelveOffload": shelve_offload,
    "unshelve": unshelve,
    "migrate": migrate,
    "evacuate": evacuate,
    "os-getConsoleOutput": console_output,
    **LEGACY_CONSOLE_ACTIONS,
    "os-resetState": reset_state,
    "forceDelete": force_delete,
    "restore": restore,
}


@route(router, "POST", "/v2.1/servers/{server_id}/action", policy=policy.ACTION_ROUTE)
async def server_action(
    server_id: str, body: ActionRequest, request: Request, authz: Authz = AuthzDep
) -> Response:
    """Run the action named by the body's key (each action has its own policy rule)."""
    data = dict(body.model_extra or {})
    for key, handler in ACTIONS.items():
        if key in data:
            return await handler(Call(request, authz, server_id, data[key]))
    name = next(iter(data), "")
    raise BadRequest(f"There is no such action: {name}")
