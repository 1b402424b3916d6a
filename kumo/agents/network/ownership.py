"""Which data-plane objects on this host belong to which cloud.

Several Kumo clouds can share one host (the test suite starts many at once),
and every one names its objects with the same prefixes. So each
:class:`~kumo.agents.network.plane.DataPlane` records, in
``<state_dir>/network/owned.json``, every namespace, host device and host
nftables table it is about to make, *before* it makes it, and registers its
state dir in a host-wide registry (:data:`REGISTRY`, on tmpfs: namespaces do
not outlive a reboot either). With that:

* ``kumo down`` of one state dir removes only what that cloud recorded;
* a reconcile removes a stale object only when no other registered cloud
  claims it (host-wide objects such as ``kbr-ext`` or ``table inet kumo-sg``
  are claimed by every cloud using them and go with the last one).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from kumo.agents.network import dhcp, router, security_groups
from kumo.agents.network.linux import names
from kumo.agents.network.linux.ip import NETNS_DIR
from kumo.agents.network.state import DesiredState, is_external, is_guest_port

log = logging.getLogger(__name__)

#: One file per cloud with a data plane on this host, holding its state dir.
REGISTRY = Path("/run/kumo-network/clouds")


def registry() -> Path:
    """The registry of the network namespace this process runs in.

    Devices and tables live in a network namespace, so clouds claim them per
    namespace: a second "host" simulated by a named namespace (``ip netns exec
    kumo-h… kumo serve --role network``) names its bridges as the first host
    does, and neither may keep the other's stale objects alive. A process
    outside every named namespace (the host) uses :data:`REGISTRY`.
    """
    try:
        own = os.stat("/proc/self/ns/net").st_ino
        named = sorted(NETNS_DIR.iterdir()) if NETNS_DIR.is_dir() else []
    except OSError:
        return REGISTRY
    for entry in named:
        with contextlib.suppress(OSError):
            if entry.stat().st_ino == own:
                return namespace_registry(entry.name)
    return REGISTRY


def namespace_registry(netns: str) -> Path:
    """The registry of the clouds whose agents run in the named namespace ``netns``."""
    return REGISTRY.parent / f"netns-{netns}" / "clouds"


@dataclass
class Owned:
    """Names of host objects: namespaces, host devices, ``"<family> <table>"``."""

    namespaces: set[str] = field(default_factory=set)
    devices: set[str] = field(default_factory=set)
    tables: set[str] = field(default_factory=set)

    def __or__(self, other: Owned) -> Owned:
        return Owned(
            self.namespaces | other.namespaces,
            self.devices | other.devices,
            self.tables | other.tables,
        )

    def __bool__(self) -> bool:
        return bool(self.namespaces or self.devices or self.tables)

    def __contains__(self, name: object) -> bool:
        return name in self.namespaces or name in self.devices or name in self.tables

    def to_json(self) -> str:
        """The ``owned.json`` text (sorted, so a rewrite with no change is byte-equal)."""
        return json.dumps(
            {
                "namespaces": sorted(self.namespaces),
                "devices": sorted(self.devices),
                "tables": sorted(self.tables),
            },
            indent=1,
        )

    @classmethod
    def from_json(cls, text: str) -> Owned:
        """Parse ``owned.json``; anything malformed reads as nothing owned."""
        try:
            data = json.loads(text)
        except ValueError:
            return cls()
        if not isinstance(data, dict):
            return cls()

        def strings(key: str) -> set[str]:
            values = data.get(key)
            return {v for v in values if isinstance(v, str)} if isinstance(values, list) else set()

        return cls(strings("namespaces"), strings("devices"), strings("tables"))


def wanted(state: DesiredState) -> Owned:
    """The namespaces and devices :meth:`DataPlane.apply` makes on the host for ``state``.

    The security group tables are not in it: their names depend on the plane
    (one pair per cloud tag), so the plane adds them.
    """
    owned = Owned()
    for network in state.networks:
        network_id = str(network["id"])
        external = is_external(network)
        owned.devices.add(names.EXTERNAL_BRIDGE if external else names.bridge(network_id))
        kind = network.get("provider:network_type")
        if kind == "vxlan":
            owned.devices.add(names.device(names.VXLAN, network_id))
        elif kind == "vlan":
            owned.devices.add(names.device(names.VLAN, network_id))
    for network_id, port in dhcp.wanted_networks(state).items():
        owned.namespaces.add(names.dhcp_namespace(network_id))
        owned.devices.add(names.device(names.DHCP_VETH, str(port["id"])))
    for r in state.routers:
        plan = router.plan(state, r)
        owned.namespaces.add(plan.namespace)
        for port in plan.interfaces:
            owned.devices.add(names.device(names.ROUTER_VETH, str(port["id"])))
        if plan.gateway is not None:
            owned.devices.add(names.device(names.GATEWAY_VETH, str(plan.gateway["id"])))
    # QEMU makes the taps, but they are this cloud's guests' (kept by `kumo down`
    # while the guests run).
    owned.devices.update(names.tap(str(p["id"])) for p in state.ports if is_guest_port(p))
    return owned


def _registry_entry(state_dir: Path) -> Path:
    digest = hashlib.sha256(str(state_dir.resolve()).encode()).hexdigest()[:20]
    return registry() / digest


class Ownership:
    """The ownership record of one cloud (state dir) on this host."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.path = state_dir / "network" / "owned.json"

    def load(self) -> Owned:
        """What this cloud recorded (nothing if it never recorded anything)."""
        try:
            return Owned.from_json(self.path.read_text())
        except OSError:
            return Owned()

    def save(self, owned: Owned) -> None:
        """Record ``owned`` (atomically) and register this cloud on the host."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        text = owned.to_json()
        if self.path.exists() and self.path.read_text() == text:
            self._register()
            return
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(text)
        tmp.replace(self.path)
        self._register()

    def claim(self, owned: Owned) -> Owned:
        """Add ``owned`` to the record before making it; the record as it was before."""
        before = self.load()
        self.save(before | owned)
        return before

    def settle(self, owned: Owned) -> None:
        """After a complete apply the record is exactly what exists for this cloud."""
        self.save(owned)

    def release(self) -> None:
        """Forget everything: this cloud has nothing left on the host."""
        self.path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            _registry_entry(self.state_dir).unlink(missing_ok=True)
        _release_security_group_tag(self.state_dir)

    def _register(self) -> None:
        entry = _registry_entry(self.state_dir)
        try:
            if entry.exists():
                return
            entry.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            entry.write_text(str(self.state_dir.resolve()))
        except OSError as exc:  # not root, or no /run: ownership still works per state dir
            log.debug("cannot register %s in %s: %s", self.state_dir, registry(), exc)

    def others(self) -> Owned:
        """Everything other live clouds on this host claim.

        A registry entry whose state dir has no ``owned.json`` any more (its
        cloud was purged, or its temporary directory deleted) is dropped; a
        record none of whose own objects exists any more (a cloud killed and
        cleaned up host-wide) claims nothing.
        """
        mine = _registry_entry(self.state_dir).name
        claimed = Owned()
        try:
            entries = sorted(registry().iterdir())
        except OSError:
            return claimed
        for entry in entries:
            if entry.name == mine:
                continue
            try:
                record = Path(entry.read_text().strip()) / "network" / "owned.json"
                theirs = Owned.from_json(record.read_text())
            except OSError:
                with contextlib.suppress(OSError):
                    entry.unlink()
                continue
            if _alive(theirs):
                claimed = claimed | theirs
        return claimed

    def may_remove(self, name: str) -> bool:
        """Whether a stale object may go: no other cloud on this host claims it."""
        return name not in self.others()


def _alive(owned: Owned) -> bool:
    """Whether any object of a record that only its cloud makes still exists."""
    if any((NETNS_DIR / ns).exists() for ns in owned.namespaces):
        return True
    return any(
        Path("/sys/class/net", dev).exists()
        for dev in owned.devices
        if dev != names.EXTERNAL_BRIDGE
    )


def forget_every_cloud() -> None:
    """Empty the registry (after a host-wide cleanup nothing is anyone's any more)."""
    try:
        entries = list(registry().iterdir())
    except OSError:
        return
    for entry in entries:
        with contextlib.suppress(OSError):
            state_dir = Path(entry.read_text().strip())
            (state_dir / "network" / "owned.json").unlink(missing_ok=True)
            _release_security_group_tag(state_dir)
        with contextlib.suppress(OSError):
            entry.unlink()


def _tags_dir() -> Path:
    return registry().parent / "sg-tags"


def _tag_record(state_dir: Path) -> Path:
    return state_dir / "network" / "sg_tag"


def _recorded_tag(state_dir: Path) -> int | None:
    try:
        return int(_tag_record(state_dir).read_text())
    except (OSError, ValueError):
        return None


def _tag_holder(tag: int) -> str | None:
    """The state dir holding ``tag``, if that cloud still records it as its own."""
    try:
        holder = (_tags_dir() / str(tag)).read_text().strip()
    except OSError:
        return None
    return holder if _recorded_tag(Path(holder)) == tag else None


@contextlib.contextmanager
def _tags_locked() -> Iterator[None]:
    _tags_dir().mkdir(parents=True, exist_ok=True, mode=0o700)
    with (_tags_dir() / ".lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def security_group_tag(state_dir: Path) -> int:
    """This cloud's security-group tag (1–63) on this host, chosen once.

    A hash of the state dir alone collides one time in 63 (two clouds would
    then replace each other's tables), so the tag is reserved host-wide: the
    hash is the first choice, the next tag no live cloud holds the fallback.
    A reservation whose cloud no longer records it (purged, or its temporary
    state dir gone) is free again.
    """
    me = str(state_dir.resolve())
    preferred = security_groups.cloud_tag(me)
    try:
        with _tags_locked():
            current = _recorded_tag(state_dir)
            candidates = [current] if current else []
            candidates += [
                1 + (preferred - 1 + i) % security_groups.MAX_TAG
                for i in range(security_groups.MAX_TAG)
            ]
            for tag in candidates:
                if _tag_holder(tag) in (None, me):
                    _tag_record(state_dir).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                    _tag_record(state_dir).write_text(str(tag))
                    (_tags_dir() / str(tag)).write_text(me)
                    return tag
    except OSError as exc:  # not root, or no /run: the hash alone
        log.debug("cannot reserve a security-group tag in %s: %s", _tags_dir(), exc)
        return preferred
    log.warning(
        "all %d security-group tags are taken; sharing %d", security_groups.MAX_TAG, preferred
    )
    return preferred


def _release_security_group_tag(state_dir: Path) -> None:
    tag = _recorded_tag(state_dir)
    _tag_record(state_dir).unlink(missing_ok=True)
    if tag is None:
        return
    with contextlib.suppress(OSError):
        entry = _tags_dir() / str(tag)
        if entry.read_text().strip() == str(state_dir.resolve()):
            entry.unlink()
