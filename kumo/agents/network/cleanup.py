"""Remove what the network agent made on this host (``kumo down``).

:func:`remove_owned` (``kumo down``) removes what one cloud recorded in its
state dir's ownership record (:mod:`kumo.agents.network.ownership`), except
host-wide objects another cloud on the host still claims, so two clouds on one
host do not tear down each other's networks. :func:`remove_everything`
(``kumo down --all``) removes every Kumo object on the host.

Only Kumo-prefixed objects are touched either way: namespaces ``kumo-*``
(their devices, routes and nftables tables go with them), host devices with a
Kumo device prefix, host nftables tables ``kumo-*``, and dnsmasq processes
whose pid files lie under the state directory.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from kumo.agents.network import dnsmasq_process, ownership
from kumo.agents.network.linux import ip, names, nft
from kumo.agents.network.linux.cmd import LinuxCommandError

log = logging.getLogger(__name__)


@dataclass
class CleanupReport:
    """What :func:`remove_owned` or :func:`remove_everything` removed."""

    processes: list[int] = field(default_factory=list)
    namespaces: list[str] = field(default_factory=list)
    devices: list[str] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.processes or self.namespaces or self.devices or self.tables)


def _kill_processes(state_dir: Path) -> list[int]:
    killed = []
    root = state_dir / "network"
    for pidfile in sorted(root.glob("**/*.pid")) if root.exists() else []:
        try:
            pid = int(pidfile.read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, ValueError):
            pidfile.unlink(missing_ok=True)
            continue
        # Only a process that names this very pid file is ours (pids get reused).
        if str(pidfile).encode() not in cmdline:
            continue
        dnsmasq_process.terminate(pid)
        pidfile.unlink(missing_ok=True)
        killed.append(pid)
    return killed


def kumo_objects() -> dict[str, list[str]]:
    """Every Kumo-prefixed namespace, host device and host nftables table that exists."""
    return {
        "namespaces": [n for n in ip.list_namespaces() if names.is_kumo_namespace(n)],
        "devices": [link.name for link in ip.list_links() if names.is_kumo_device(link.name)],
        "tables": [
            f"{family} {name}" for family, name in nft.list_tables() if names.is_kumo_table(name)
        ],
    }


def remove_everything(state_dir: Path, *, keep_guest_taps: bool = False) -> CleanupReport:
    """Delete every Kumo-owned namespace, device and nftables table; stop dnsmasq.

    ``keep_guest_taps`` leaves the taps of guests that stay running (``ktp-…``),
    so the next agent start plugs them into the rebuilt bridges. Safe to run
    when nothing is left (it then removes nothing) and on a host without
    iproute2 or nftables (nothing to remove there either).
    """
    report = CleanupReport()
    report.processes = _kill_processes(state_dir)
    try:
        found = kumo_objects()
    except (LinuxCommandError, FileNotFoundError) as exc:
        log.warning("cannot list network objects: %s", exc)
        return report
    for ns in found["namespaces"]:
        ip.delete_namespace(ns)
        report.namespaces.append(ns)
    # Deleting a namespace takes its veth peers along; list again before deleting.
    for link in ip.list_links():
        if keep_guest_taps and link.name.startswith(names.TAP):
            continue
        if names.is_kumo_device(link.name):
            ip.delete_link(link.name)
            report.devices.append(link.name)
    for family, name in nft.list_tables():
        if names.is_kumo_table(name):
            nft.delete_table(family, name)
            report.tables.append(f"{family} {name}")
    # Nothing is left on the host, so no cloud owns anything any more.
    ownership.forget_every_cloud()
    return report


def remove_owned(state_dir: Path, *, keep_guest_taps: bool = False) -> CleanupReport:
    """Delete what the cloud of ``state_dir`` made; leave other clouds' objects alone.

    An object in this cloud's record that another live cloud on the host also
    claims (the external bridge ``kbr-ext``, the ``kumo-sg`` tables) stays for
    that cloud. ``keep_guest_taps`` leaves this cloud's guest taps (``ktp-…``)
    and keeps them recorded. Safe to run twice and on a host without iproute2
    or nftables.
    """
    report = CleanupReport()
    report.processes = _kill_processes(state_dir)
    record = ownership.Ownership(state_dir)
    mine = record.load()
    if not mine:
        record.release()
        return report
    others = record.others()
    kept = ownership.Owned()
    try:
        for ns in ip.list_namespaces():
            if ns in mine.namespaces and ns not in others and names.is_kumo_namespace(ns):
                ip.delete_namespace(ns)
                report.namespaces.append(ns)
        # Deleting a namespace takes its veth peers along; list again before deleting.
        for link in ip.list_links():
            if link.name not in mine.devices or not names.is_kumo_device(link.name):
                continue
            if keep_guest_taps and link.name.startswith(names.TAP):
                kept.devices.add(link.name)
            elif link.name not in others:
                ip.delete_link(link.name)
                report.devices.append(link.name)
        for family, name in nft.list_tables():
            table = f"{family} {name}"
            if table in mine.tables and table not in others and names.is_kumo_table(name):
                nft.delete_table(family, name)
                report.tables.append(table)
    except (LinuxCommandError, FileNotFoundError) as exc:
        log.warning("cannot list network objects: %s", exc)
        return report
    if kept:
        record.settle(kept)
    else:
        record.release()
    return report


def remove_unclaimed(state_dir: Path) -> CleanupReport:
    """Delete every Kumo object on the host that no live cloud claims (leftovers).

    What a crashed or killed cloud left behind, or a test made by hand, goes;
    what a running cloud recorded stays, and so do guest taps (``ktp-…``).
    ``state_dir`` counts as a cloud too (pass one that has released its record
    to treat its objects as leftovers).
    """
    report = CleanupReport()
    claimed = ownership.Ownership(state_dir).others() | ownership.Ownership(state_dir).load()
    try:
        for ns in kumo_objects()["namespaces"]:
            if ns not in claimed:
                ip.delete_namespace(ns)
                report.namespaces.append(ns)
        for link in ip.list_links():
            # A tap is a running guest's (QEMU deletes it when the guest exits), even when
            # no network agent claims it.
            if link.name.startswith(names.TAP) or link.name in claimed:
                continue
            if names.is_kumo_device(link.name):
                ip.delete_link(link.name)
                report.devices.append(link.name)
        for family, name in nft.list_tables():
            table = f"{family} {name}"
            if names.is_kumo_table(name) and table not in claimed:
                nft.delete_table(family, name)
                report.tables.append(table)
    except (LinuxCommandError, FileNotFoundError) as exc:
        log.warning("cannot list network objects: %s", exc)
    return report
