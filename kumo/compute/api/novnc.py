"""noVNC's static files at ``/compute/novnc/`` (the page a VNC console URL opens).

The files are Debian's ``novnc`` package (``/usr/share/novnc``, installed by
``make debs``), served as nova-novncproxy serves its ``web`` directory: public,
since a browser opening the console URL holds no Keystone token (the websocket
it opens carries the console token instead). They are a mounted static app,
not an API route: no policy, no microversion, not in the OpenAPI document. On
a host without the package every file answers 404 saying what to install.
"""

from __future__ import annotations

from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from kumo.common.errors import NotFound

#: Where the files are mounted, below the compute service's prefix.
MOUNT_PATH = "/novnc"
#: Where Debian's ``novnc`` package puts noVNC.
NOVNC_DIR = Path("/usr/share/novnc")


class NoVNCFiles(StaticFiles):
    """noVNC's directory; a missing package or file is a 404 in the service's error format."""

    def __init__(self, directory: Path = NOVNC_DIR) -> None:
        # Debian links vnc_auto.html to vnc_lite.html, so links are followed; a path
        # still cannot climb out of the directory (StaticFiles checks the joined path).
        super().__init__(directory=directory, check_dir=False, follow_symlink=True)
        self.root = directory

    async def get_response(self, path: str, scope: Scope) -> Response:
        """The file at ``path``, or :class:`NotFound` with the reason."""
        if not self.root.is_dir():
            raise NotFound(
                f"noVNC is not installed on this host ({self.root} is missing): install the "
                "Debian package 'novnc' (make debs) for VNC consoles in a browser."
            )
        try:
            return await super().get_response(path, scope)
        except HTTPException as exc:
            if exc.status_code == 404:
                raise NotFound(f"noVNC has no file {path!r}.") from None
            raise
