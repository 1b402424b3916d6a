"""Running a command, optionally inside a network namespace."""

from __future__ import annotations

import subprocess


class LinuxCommandError(RuntimeError):
    """A command failed; carries its argv, exit status and stderr."""

    def __init__(self, argv: list[str], returncode: int, stderr: str) -> None:
        super().__init__(f"{' '.join(argv)!s} failed ({returncode}): {stderr.strip()}")
        self.argv = argv
        self.returncode = returncode
        self.stderr = stderr


def in_namespace(argv: list[str], netns: str | None) -> list[str]:
    """``argv`` prefixed to run inside ``netns`` (unchanged for the host)."""
    return ["ip", "netns", "exec", netns, *argv] if netns else argv


def run(
    argv: list[str],
    *,
    netns: str | None = None,
    stdin: str | None = None,
    check: bool = True,
    timeout: float = 30.0,
) -> str:
    """Run ``argv`` (inside ``netns`` when given) and return its stdout.

    Raises :class:`LinuxCommandError` on a non-zero exit when ``check``.
    """
    full = in_namespace(argv, netns)
    done = subprocess.run(
        full, input=stdin, capture_output=True, text=True, timeout=timeout, check=False
    )
    if check and done.returncode != 0:
        raise LinuxCommandError(full, done.returncode, done.stderr)
    return done.stdout
