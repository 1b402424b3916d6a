"""Network agents (the ``agent`` extension): what each host's network agent reports.

Kumo's one network agent process plays the four Neutron agent roles on its
host (DHCP, L3, metadata, Linux bridge), so it reports four agents. Reports
are kept in ``<state_dir>/network/agents.json`` (every API process of a cloud
shares its state dir, and the agent runs in role ``all`` beside the API), under
an exclusive file lock, so no database migration is needed. ``alive`` is
computed at read time: a heartbeat younger than ``down_time`` seconds.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from kumo.common.errors import NotFound

#: Neutron's agent types, with the binary and RPC topic Neutron reports for each.
AGENT_TYPES: dict[str, tuple[str, str, str | None]] = {
    "DHCP agent": ("neutron-dhcp-agent", "dhcp_agent", "nova"),
    "L3 agent": ("neutron-l3-agent", "l3_agent", "nova"),
    "Metadata agent": ("neutron-metadata-agent", "N/A", None),
    "Linux bridge agent": ("neutron-linuxbridge-agent", "N/A", None),
}

#: Neutron's ``agent_down_time`` default: seconds without a heartbeat before an agent is dead.
DEFAULT_DOWN_TIME = 75.0

Record = dict[str, Any]


def timestamp(when: float) -> str:
    """Neutron's agent timestamp format (``2026-11-29 21:40:00``, UTC)."""
    return dt.datetime.fromtimestamp(when, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def not_found(agent_id: str) -> NotFound:
    """Neutron's ``AgentNotFound``."""
    return NotFound(f"Agent {agent_id} could not be found.", code="AgentNotFound")


class AgentStore:
    """The agent records of one cloud."""

    def __init__(
        self,
        state_dir: Path,
        *,
        down_time: float = DEFAULT_DOWN_TIME,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = state_dir / "network" / "agents.json"
        self.down_time = down_time
        self.clock = clock

    @contextlib.contextmanager
    def _locked(self) -> Iterator[dict[str, Record]]:
        """The records, read under an exclusive lock and written back on exit."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with open(self.path.with_suffix(".lock"), "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            records = self._read()
            before = json.dumps(records, sort_keys=True)
            yield records
            if json.dumps(records, sort_keys=True) != before:
                tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
                tmp.write_text(json.dumps(records, indent=1, sort_keys=True))
                tmp.replace(self.path)

    def _read(self) -> dict[str, Record]:
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _shown(self, record: Record) -> Record:
        now = self.clock()
        shown = {k: v for k, v in record.items() if not k.startswith("_")}
        shown["alive"] = now - float(record.get("_heartbeat", 0)) <= self.down_time
        return shown

    def report(
        self, host: str, agent_type: str, configurations: dict[str, Any], *, started_at: float
    ) -> Record:
        """One heartbeat of ``agent_type`` on ``host``; registers the agent the first time.

        A deleted agent comes back with a new id at its next report, as in Neutron.
        """
        binary, topic, zone = AGENT_TYPES[agent_type]
        now = self.clock()
        with self._locked() as records:
            record = next(
                (
                    r
                    for r in records.values()
                    if r.get("host") == host and r.get("agent_type") == agent_type
                ),
                None,
            )
            if record is None:
                record = {
                    "id": str(uuid.uuid4()),
                    "agent_type": agent_type,
                    "binary": binary,
                    "topic": topic,
                    "host": host,
                    "admin_state_up": True,
                    "description": None,
                    "availability_zone": zone,
                    "created_at": timestamp(now),
                    "resources_synced": None,
                }
                records[record["id"]] = record
            record["started_at"] = timestamp(started_at)
            record["heartbeat_timestamp"] = timestamp(now)
            record["configurations"] = configurations
            record["_heartbeat"] = now
            return self._shown(record)

    def list(self) -> list[Record]:
        """Every agent (``alive`` as of now)."""
        return [self._shown(r) for r in self._read().values()]

    def get(self, agent_id: str) -> Record:
        """One agent; ``AgentNotFound`` when unknown."""
        record = self._read().get(agent_id)
        if record is None:
            raise not_found(agent_id)
        return self._shown(record)

    def update(self, agent_id: str, changes: dict[str, Any]) -> Record:
        """Set ``admin_state_up`` and/or ``description``."""
        with self._locked() as records:
            record = records.get(agent_id)
            if record is None:
                raise not_found(agent_id)
            record.update(changes)
            return self._shown(record)

    def delete(self, agent_id: str) -> None:
        """Forget an agent (it registers again at its next heartbeat)."""
        with self._locked() as records:
            if records.pop(agent_id, None) is None:
                raise not_found(agent_id)
