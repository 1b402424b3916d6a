"""nftables: atomic replacement of Kumo-owned tables, host or namespace.

A ruleset is applied as one ``nft -f -`` transaction that first makes sure the
table exists, then deletes and recreates it: the old and new rules are never
both absent nor both half present.
"""

from __future__ import annotations

import json
from typing import Any

from kumo.agents.network.linux.cmd import LinuxCommandError, run
from kumo.agents.network.linux.names import is_kumo_table


def _check_table(family: str, name: str) -> None:
    if not is_kumo_table(name):
        raise ValueError(f"refusing to touch nftables table {family} {name}: not Kumo's")


def replace_table(family: str, name: str, body: str, *, netns: str | None = None) -> None:
    """Atomically replace table ``family name`` with ``body`` (the table's contents)."""
    _check_table(family, name)
    script = (
        f"table {family} {name} {{}}\n"
        f"delete table {family} {name}\n"
        f"table {family} {name} {{\n{body}\n}}\n"
    )
    run(["nft", "-f", "-"], netns=netns, stdin=script)


def replace_tables(tables: list[tuple[str, str, str]], *, netns: str | None = None) -> None:
    """Replace several Kumo tables ``(family, name, body)`` in one transaction."""
    script = ""
    for family, name, body in tables:
        _check_table(family, name)
        script += (
            f"table {family} {name} {{}}\n"
            f"delete table {family} {name}\n"
            f"table {family} {name} {{\n{body}\n}}\n"
        )
    run(["nft", "-f", "-"], netns=netns, stdin=script)


def delete_table(family: str, name: str, *, netns: str | None = None) -> None:
    """Delete a Kumo table; a missing one is not an error."""
    _check_table(family, name)
    script = f"table {family} {name} {{}}\ndelete table {family} {name}\n"
    run(["nft", "-f", "-"], netns=netns, stdin=script)


def list_tables(netns: str | None = None) -> list[tuple[str, str]]:
    """Every nftables table as ``(family, name)``."""
    out = run(["nft", "-j", "list", "tables"], netns=netns)
    data: dict[str, Any] = json.loads(out or '{"nftables": []}')
    return sorted(
        (str(item["table"]["family"]), str(item["table"]["name"]))
        for item in data.get("nftables", [])
        if "table" in item
    )


def table_text(family: str, name: str, *, netns: str | None = None) -> str | None:
    """``nft list table`` output, or None when the table does not exist."""
    try:
        return run(["nft", "list", "table", family, name], netns=netns)
    except LinuxCommandError:
        return None
