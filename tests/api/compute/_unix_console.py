"""A one-connection unix socket server: what a QEMU console socket looks like to the proxy."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

#: How long the server waits for its one client, and for each read.
TIMEOUT = 10.0


class OneClientServer:
    """Accepts one connection on ``path`` in a thread and hands it to :meth:`talk`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.connections = 0
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(str(path))
        self.server.listen(1)
        self.server.settimeout(TIMEOUT)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        try:
            conn, _ = self.server.accept()
        except OSError:
            return
        self.connections += 1
        with conn:
            conn.settimeout(TIMEOUT)
            self.talk(conn)
        self.hung_up()

    def talk(self, conn: socket.socket) -> None:
        """The conversation with the one client (the connection closes after it)."""
        raise NotImplementedError

    def hung_up(self) -> None:
        """Called once the connection is closed."""

    def close(self) -> None:
        self.server.close()
