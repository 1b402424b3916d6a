"""`kumo trace SERVER`: a server's actions and their events as a timeline.

Run on the controller: it reads the database directly (the same
``database_url`` the services use), so it works even while the API is down.
Boot events are labelled with their booklet step (:mod:`kumo.compute.journey`).
"""

from __future__ import annotations

import datetime as dt

from rich.console import Console
from rich.table import Table
from sqlalchemy import or_, select

from kumo.common.config import Settings
from kumo.common.db import Database
from kumo.compute import journey
from kumo.compute.db.instances import Instance
from kumo.compute.service import instance_actions, servers


def _fmt(value: dt.datetime | None) -> str:
    return value.strftime("%H:%M:%S.%f")[:-3] if value else "—"


def _duration(start: dt.datetime | None, end: dt.datetime | None) -> str:
    if start is None or end is None:
        return "running" if start else "—"
    return f"{(end - start).total_seconds() * 1000:.0f} ms"


def find_server(db: Database, ref: str) -> Instance:
    """The server with uuid ``ref``, or the one server named ``ref`` (deleted ones too)."""
    with db.reader() as s:
        rows = list(
            s.scalars(
                select(Instance)
                .where(or_(Instance.uuid == ref, Instance.display_name == ref))
                .order_by(Instance.deleted, Instance.created_at.desc())
            )
        )
        exact = [r for r in rows if r.uuid == ref]
        live = [r for r in rows if not r.deleted]
        pick = exact or live or rows
        if not pick:
            raise SystemExit(f"No server {ref!r}.")
        if len(pick) > 1 and not exact:
            ids = ", ".join(r.uuid for r in pick)
            raise SystemExit(f"More than one server is named {ref!r}: {ids}; give its id.")
        for row in pick:
            s.expunge(row)
        return pick[0]


def trace(settings: Settings, ref: str, console: Console | None = None) -> int:
    """Print the timeline of server ``ref`` (id or name)."""
    console = console or Console()
    db = Database(settings.effective_database_url)
    try:
        server = find_server(db, ref)
        with db.reader() as s:
            fault = servers.latest_fault(s, server.uuid)
            actions = list(reversed(instance_actions.list_actions(s, server.uuid)))
            events = {a.id: instance_actions.list_events(s, a.id) for a in actions}
        console.print(
            f"[bold]{server.display_name}[/bold] {server.uuid}  "
            f"vm_state={server.vm_state} task_state={server.task_state} host={server.host}"
        )
        if fault is not None and server.vm_state == "error":
            console.print(f"[red]fault {fault.code}: {fault.message}[/red]")
        for action in actions:
            table = Table(
                title=f"{action.action}  {action.request_id}  started {_fmt(action.start_time)}",
                title_justify="left",
            )
            for column in ("step", "event", "host", "start", "duration", "result"):
                table.add_column(column)
            for event in events[action.id]:
                step = journey.BY_EVENT.get(event.event)
                result = event.result or "running"
                style = "red" if result.lower() == "error" else None
                table.add_row(
                    step.step if step else "",
                    event.event,
                    event.host or "",
                    _fmt(event.start_time),
                    _duration(event.start_time, event.finish_time),
                    result,
                    style=style,
                )
            console.print(table)
            for event in events[action.id]:
                if event.result and event.result.lower() == "error" and event.traceback:
                    last = event.traceback.strip().splitlines()[-1]
                    console.print(f"  [red]{event.event}: {last}[/red]")
        if not actions:
            console.print("No actions recorded.")
        return 0
    finally:
        db.dispose()
