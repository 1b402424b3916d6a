"""The steps every server action shares: policy, state table, record, hand-over."""

import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response
from starlette.concurrency import run_in_threadpool

from kumo.common.api import Authz
from kumo.common.errors import Conflict, ValidationError
from kumo.common.microversion import Version
from kumo.compute import states
from kumo.compute.api.server_common import (
    image_lookup,
    is_admin,
    load_server,
    request_id,
    target,
)
from kumo.compute.api.versions import compute_version
from kumo.compute.db.instances import Instance
from kumo.compute.service import images, server_actions


@dataclass
class Call:
    """One action request."""

    request: Request
    authz: Authz
    server_id: str
    arg: Any

    @property
    def version(self) -> Version:
        return compute_version(self.request)

    @property
    def rid(self) -> str:
        return request_id(self.request)

    def obj(self, name: str, *, optional: bool = False) -> dict[str, Any]:
        """The action's argument as an object (``null`` allowed when ``optional``)."""
        if self.arg is None and optional:
            return {}
        if not isinstance(self.arg, dict):
            raise ValidationError(
                f"Invalid input for field/attribute {name}. Value: {self.arg}. "
                f"{self.arg!r} is not of type 'object'"
            )
        return self.arg


async def begin(
    call: Call,
    rule: str,
    state_action: str,
    record_as: str | None,
    prepare: Callable[[Any, Instance], None] | None = None,
) -> Instance:
    """Policy, lock, state table, compare-and-set and action record in one transaction."""
    admin = is_admin(call.authz)

    def work() -> Instance:
        with call.request.app.state.db.writer() as s:
            instance = load_server(s, call.authz, call.server_id)
            call.authz.enforce(target(instance), rule=rule)
            if prepare is not None:
                prepare(s, instance)
            return server_actions.begin_action(
                s,
                call.server_id,
                state_action,
                record_as=record_as,
                request_id=call.rid,
                user_id=call.authz.ctx.user_id,
                project_id=call.authz.ctx.project_id,
                is_admin=admin,
            )

    return await run_in_threadpool(work)


async def undo_begin(call: Call, state_action: str) -> None:
    """Clear the task_state :func:`begin` set (the action could not be handed over)."""
    sets_task = states.ACTIONS[state_action].sets_task

    def undo() -> None:
        with call.request.app.state.db.writer() as s:
            server_actions.undo_task(s, call.server_id, sets_task)

    await run_in_threadpool(undo)


async def hand_over(
    call: Call, instance: Instance, state_action: str, rpc_action: str, **params: Any
) -> str | None:
    """Cast (or call) the action to the compute host; undo the task_state when that fails."""
    rpc = getattr(call.request.app.state, "compute_rpc", None)
    try:
        if rpc is None:
            raise RuntimeError("no compute control plane is running")
        result: str | None = await rpc.run_action(
            call.authz.ctx, instance.host, call.server_id, rpc_action, call.rid, **params
        )
        return result
    except Exception as exc:
        sets_task = states.ACTIONS[state_action].sets_task

        def undo() -> None:
            with call.request.app.state.db.writer() as s:
                server_actions.undo_task(s, call.server_id, sets_task)

        await run_in_threadpool(undo)
        raise Conflict(
            f"Cannot '{states.ACTIONS[state_action].name}' instance {call.server_id}: "
            f"its compute host is unavailable ({exc})"
        ) from exc


async def simple(
    call: Call, rule: str, state_action: str, rpc_action: str, **params: Any
) -> Response:
    instance = await begin(call, rule, state_action, record_as=record_name(state_action))
    await hand_over(call, instance, state_action, rpc_action, **params)
    return Response(status_code=202)


def record_name(state_action: str) -> str:
    return "reboot" if state_action == "reboot_hard" else state_action


def new_password() -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(12))


def lookup(call: Call) -> images.ImageLookup:
    """The app's image lookup."""
    return image_lookup(call.request)
