"""Listening sockets that live in another network namespace, opened from this process.

A socket belongs to the namespace it was created in, whatever thread later
uses it: a short-lived thread enters the namespace (``setns``), creates and
binds the socket, and the thread ends. The event loop's thread never moves.
"""

from __future__ import annotations

import ctypes
import os
import socket
import threading

from kumo.agents.network.linux.ip import NETNS_DIR

CLONE_NEWNET = 0x40000000


def _setns(fd: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"setns: {os.strerror(errno)}")


def listen_in_namespace(netns: str, host: str, port: int, backlog: int = 64) -> socket.socket:
    """A non-blocking TCP socket listening on ``host:port`` inside ``netns``."""
    result: dict[str, socket.socket | BaseException] = {}

    def work() -> None:
        try:
            with open(NETNS_DIR / netns, "rb") as target:
                _setns(target.fileno())
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
            sock.listen(backlog)
            sock.setblocking(False)
            result["sock"] = sock
        except BaseException as exc:
            result["error"] = exc

    # A fresh thread that dies afterwards, so no thread stays in the namespace.
    thread = threading.Thread(target=work, name=f"kumo-netns-{netns}", daemon=True)
    thread.start()
    thread.join(timeout=10)
    value = result.get("sock") or result.get("error")
    if isinstance(value, socket.socket):
        return value
    if isinstance(value, BaseException):
        raise value
    raise TimeoutError(f"opening a socket in {netns} timed out")
