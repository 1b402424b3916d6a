"""/os-instance_usage_audit_log: which compute hosts ran the usage audit of a period.

Nova's hosts run a monthly usage audit only with ``instance_usage_audit = True`` (off
by default) and record a task log per host and period. Kumo's hosts run no such audit,
so every compute host is reported as not run for the period, as Nova reports it with
the audit off. The period is the last completed month before ``before`` (or now).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request

from kumo.common.api import Authz, AuthzDep, route
from kumo.common.db import utcnow
from kumo.common.errors import BadRequest
from kumo.compute.service import hosts

router = APIRouter()
BASE = "/v2.1/os-instance_usage_audit_log"
RULE = "os_compute_api:os-instance-usage-audit-log:%s"
#: Nova's formats for the ``before`` timestamp in the URL.
FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S.%f")


def last_completed_month(before: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The last whole calendar month ending at or before ``before`` (Nova's audit period)."""
    end = before.replace(day=1, hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    start = (end - dt.timedelta(days=1)).replace(day=1)
    return start, end


def _summary(request: Request, before: dt.datetime) -> dict[str, Any]:
    start, end = last_completed_month(before)
    with request.app.state.db.reader() as s:
        computes = sorted({svc.host for svc in hosts.list_services(s, binary="nova-compute")})
    done: list[str] = []  # no Kumo host runs the audit (no task logs to read)
    not_run = [h for h in computes if h not in done]
    total = len(computes)
    status = (
        f"ALL hosts done. {0} errors."
        if total and not not_run
        else f"{len(done)} of {total} hosts done. {0} errors."
    )
    return {
        "hosts_not_run": not_run,
        "log": {},
        "num_hosts": total,
        "num_hosts_done": len(done),
        "num_hosts_not_run": len(not_run),
        "num_hosts_running": 0,
        "overall_status": status,
        "period_beginning": start.strftime("%Y-%m-%d %H:%M:%S"),
        "period_ending": end.strftime("%Y-%m-%d %H:%M:%S"),
        "total_errors": 0,
        "total_instances": 0,
    }


@route(router, "GET", BASE, policy=RULE % "list")
def list_audit_logs(request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """The audit of the last completed month."""
    authz.enforce({})
    return {"instance_usage_audit_logs": _summary(request, utcnow())}


@route(router, "GET", BASE + "/{before}", policy=RULE % "show")
def show_audit_log(before: str, request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """The audit of the last month completed before ``before`` (``YYYY-MM-DD hh:mm:ss``)."""
    authz.enforce({})
    for fmt in FORMATS:
        try:
            when = dt.datetime.strptime(before, fmt)
            break
        except ValueError:
            continue
    else:
        raise BadRequest(f"Invalid timestamp for date {before}")
    return {"instance_usage_audit_log": _summary(request, when)}
