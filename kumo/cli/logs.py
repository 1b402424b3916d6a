"""`kumo logs [service] [-f]`: what devstack's screen session showed."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from kumo.cli.state import StateDir
from kumo.common.config import Settings

#: Services and the log they write to (the role that runs them).
SERVICE_LOGS = {"identity": "all", "api": "all", "supervisor": "supervisor"}


def _files(state: StateDir, name: str | None) -> list[Path]:
    if name is None:
        return sorted(state.logs.glob("*.log"))
    target = SERVICE_LOGS.get(name, name)
    path = state.logfile(target)
    if not path.exists():
        known = sorted({*SERVICE_LOGS, *(p.stem for p in state.logs.glob("*.log"))})
        raise SystemExit(f"no log for {name!r}; known: {', '.join(known)}")
    return [path]


def logs(settings: Settings, name: str | None, follow: bool, lines: int = 200) -> None:
    """Print the last ``lines`` lines of each log, then follow them if asked."""
    state = StateDir(settings)
    files = _files(state, name)
    positions = {}
    for path in files:
        content = path.read_text(errors="replace").splitlines()
        prefix = f"[{path.stem}] " if len(files) > 1 else ""
        for line in content[-lines:]:
            print(prefix + line)
        positions[path] = path.stat().st_size
    if not follow:
        return
    try:
        while True:
            for path in files:
                size = path.stat().st_size
                if size > positions[path]:
                    with path.open("rb") as f:
                        f.seek(positions[path])
                        chunk = f.read().decode(errors="replace")
                    positions[path] = size
                    prefix = f"[{path.stem}] " if len(files) > 1 else ""
                    for line in chunk.splitlines():
                        print(prefix + line)
                    sys.stdout.flush()
            time.sleep(0.3)
    except KeyboardInterrupt:
        return
