"""A minimal writer of "newc" cpio archives, the format of a Linux initramfs.

Written here rather than driving GNU cpio so that the archive can hold device
nodes (``/dev/console``) without root, and so that it is reproducible: every
entry is owned by root with a fixed modification time.
"""

from __future__ import annotations

import stat
from dataclasses import dataclass

_TRAILER = "TRAILER!!!"


@dataclass(frozen=True)
class Entry:
    """One archive member: a directory, a regular file, a symlink or a device node."""

    path: str
    mode: int
    data: bytes = b""
    rdev: tuple[int, int] = (0, 0)


def directory(path: str, perm: int = 0o755) -> Entry:
    """A directory entry."""
    return Entry(path, stat.S_IFDIR | perm)


def regular(path: str, data: bytes, perm: int = 0o644) -> Entry:
    """A regular file entry."""
    return Entry(path, stat.S_IFREG | perm, data)


def symlink(path: str, target: str) -> Entry:
    """A symbolic link entry pointing at ``target``."""
    return Entry(path, stat.S_IFLNK | 0o777, target.encode())


def chardev(path: str, major: int, minor: int, perm: int = 0o600) -> Entry:
    """A character device node entry."""
    return Entry(path, stat.S_IFCHR | perm, rdev=(major, minor))


def _pad(length: int) -> bytes:
    return b"\0" * (-length % 4)


def _header(ino: int, entry: Entry, name: bytes, size: int) -> bytes:
    nlink = 2 if stat.S_ISDIR(entry.mode) else 1
    fields = [
        ino,
        entry.mode,
        0,  # uid
        0,  # gid
        nlink,
        0,  # mtime: fixed, for reproducible archives
        size,
        0,  # dev major
        0,  # dev minor
        entry.rdev[0],
        entry.rdev[1],
        len(name) + 1,
        0,  # checksum (unused by newc)
    ]
    return b"070701" + b"".join(f"{value:08x}".encode() for value in fields)


def archive(entries: list[Entry]) -> bytes:
    """The newc archive of ``entries`` (paths relative, without a leading slash)."""
    out = bytearray()
    for ino, entry in enumerate([*entries, Entry(_TRAILER, 0)], start=1):
        name = entry.path.lstrip("/").encode()
        head = _header(ino if entry.path != _TRAILER else 0, entry, name, len(entry.data))
        out += head + name + b"\0"
        out += _pad(len(head) + len(name) + 1)
        out += entry.data + _pad(len(entry.data))
    return bytes(out)
