"""POST /os-server-external-events: Neutron and Cinder tell Nova about a server's ports/volumes.

Each event is answered on its own, as Nova does: 200 when the server exists on a host
(the event is accepted), 404 when there is no such server, 422 when the server has no
host yet; the whole response is 200 when every event was accepted, 207 when some were
not, and 404 when none was. Kumo's compute hosts do not wait for these events (ports
are bound before the guest starts), so an accepted event changes nothing further.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from kumo.common.api import Authz, AuthzDep, route
from kumo.common.errors import NotFound, ValidationError
from kumo.common.microversion import Version
from kumo.compute.api.versions import compute_version
from kumo.compute.schemas.params import JsonBody
from kumo.compute.service.servers import get_instance

router = APIRouter()
V = Version
#: Event names and the microversion each appeared in.
EVENT_NAMES = {
    "network-changed": V(2, 1),
    "network-vif-plugged": V(2, 1),
    "network-vif-unplugged": V(2, 1),
    "network-vif-deleted": V(2, 1),
    "volume-extended": V(2, 51),
    "power-update": V(2, 76),
    "accelerator-request-bound": V(2, 82),
    "volume-reimaged": V(2, 93),
}
STATUSES = ("failed", "completed", "in-progress")
FIELDS = ("name", "server_uuid", "status", "tag")


def _invalid(field: str, value: Any, why: str) -> ValidationError:
    return ValidationError(f"Invalid input for field/attribute {field}. Value: {value}. {why}")


def _check(event: Any, version: Version) -> dict[str, Any]:
    if not isinstance(event, dict):
        raise _invalid("events", event, f"{event!r} is not of type 'object'")
    extra = sorted(set(event) - set(FIELDS))
    if extra:
        raise _invalid(
            "events", event, f"Additional properties are not allowed ({extra[0]!r} was unexpected)"
        )
    for key in ("name", "server_uuid"):
        if key not in event:
            raise _invalid("events", event, f"'{key}' is a required property")
    name = event["name"]
    allowed = [n for n, since in EVENT_NAMES.items() if version >= since]
    if name not in allowed:
        raise _invalid("name", name, f"{name!r} is not one of {allowed}")
    status = event.get("status", "completed")
    if status not in STATUSES:
        raise _invalid("status", status, f"{status!r} is not one of {list(STATUSES)}")
    if not isinstance(event["server_uuid"], str):
        raise _invalid("server_uuid", event["server_uuid"], "is not of type 'string'")
    tag = event.get("tag")
    if tag is not None and (not isinstance(tag, str) or len(tag) > 255):
        raise _invalid("tag", tag, "is not a string of at most 255 characters")
    return {**event, "status": status}


@route(
    router,
    "POST",
    "/v2.1/os-server-external-events",
    policy="os_compute_api:os-server-external-events:create",
)
def create_external_events(
    body: JsonBody, request: Request, authz: Authz = AuthzDep
) -> JSONResponse:
    """Accept each event whose server is on a host; answer 200, 207 or 404."""
    authz.enforce({})
    data = body.data()
    events = data.get("events")
    if not isinstance(events, list) or not events:
        raise _invalid("events", events, "'events' is a required non-empty array")
    if set(data) - {"events"}:
        raise _invalid("body", data, "Additional properties are not allowed")
    version = compute_version(request)
    checked = [_check(e, version) for e in events]
    answers: list[dict[str, Any]] = []
    accepted = 0
    with request.app.state.db.reader() as s:
        for event in checked:
            answer = dict(event)
            try:
                instance = get_instance(s, event["server_uuid"])
            except NotFound:
                answer.update(status="failed", code=404)
            else:
                if instance.host:
                    answer["code"] = 200
                    accepted += 1
                else:
                    answer.update(status="failed", code=422)
            answers.append(answer)
    if not accepted:
        raise NotFound("No instances found for any event")
    status = 200 if accepted == len(answers) else 207
    return JSONResponse({"events": answers}, status_code=status)
