"""The state directory's layout: database, keys, pid files, logs, secrets."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from kumo.common.config import Settings

MARKER = ".kumo-state"


class StateDir:
    """Paths inside a Kumo state directory."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root = settings.state_dir

    @property
    def run(self) -> Path:
        return self.root / "run"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def clouds_yaml(self) -> Path:
        return self.root / "clouds.yaml"

    @property
    def password_file(self) -> Path:
        return self.root / "admin-password"

    def pidfile(self, name: str) -> Path:
        return self.run / f"{name}.pid"

    def logfile(self, name: str) -> Path:
        return self.logs / f"{name}.log"

    def ensure(self) -> None:
        """Create the directory tree, private to the owner."""
        for path in (self.root, self.run, self.logs):
            path.mkdir(parents=True, exist_ok=True, mode=0o700)
        (self.root / MARKER).touch()

    def is_kumo_state(self) -> bool:
        """True when the directory was made by Kumo (guards `kumo down --purge`)."""
        return (self.root / MARKER).exists()

    def admin_password(self) -> str:
        """KUMO_ADMIN_PASSWORD, else the password generated on first run (kept 0600)."""
        if self.settings.admin_password is not None:
            return self.settings.admin_password.get_secret_value()
        if self.password_file.exists():
            return self.password_file.read_text().strip()
        password = secrets.token_urlsafe(18)
        fd = os.open(self.password_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(password + "\n")
        return password
