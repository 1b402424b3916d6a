"""Where a Kumo guest's boot time goes, read from its serial console.

The guest's ``/init`` (``kumo/guest/rootfs/init``) stamps each step with the
guest's uptime (``[2.345] kumo-init: …``) and ends with cloud-init's finished
line (``… Up 3.21 seconds``). :func:`guest_steps` turns a console text into the
uptime of each named milestone, so the benchmarks can split a boot into kernel,
init steps and the network, for Kumo's guests and for the bare-QEMU floor alike.

Pure Python with no imports from Kumo: ``guest_sdk.py`` runs it in the clients venv.
"""

from __future__ import annotations

import re

_STAMPED = re.compile(r"^\[\s*(\d+(?:\.\d+)?)\] kumo-init: (.*)$")
_FINISHED = re.compile(r"Cloud-init v\. kumo finished at .* Up (\d+(?:\.\d+)?) seconds")

#: Milestones, in boot order: name -> the start of the init's log message. The init
#: configures the network in the background from right after the datasource is read
#: (``network_start`` to ``network_done``) and waits for it (``network_wait`` to
#: ``network_ready``) before the scripts.
MILESTONES = {
    "init": "init started",
    "config_drive": "config drive found",
    "network_start": "network: ",
    "state": "instance state on",
    "network_done": "network configured",
    "network_wait": "waiting for the network",
    "network_ready": "network ready",
    "dropbear": "dropbear listening",
}


def guest_steps(console: str) -> dict[str, float]:
    """Uptime (s) of each milestone the console shows, and ``finished``.

    The first line of each milestone counts (a guest that rebooted is not
    timed by its later boots).
    """
    steps: dict[str, float] = {}
    for line in console.splitlines():
        line = line.strip("\r")
        finished = _FINISHED.search(line)
        if finished:
            steps.setdefault("finished", float(finished.group(1)))
            break
        stamped = _STAMPED.match(line)
        if not stamped:
            continue
        for name, prefix in MILESTONES.items():
            if stamped.group(2).startswith(prefix):
                steps.setdefault(name, float(stamped.group(1)))
    return steps


def init_lines(console: str, limit: int = 60) -> list[str]:
    """The init's stamped lines (its own log of each step), at most ``limit``."""
    lines = [line.strip("\r") for line in console.splitlines()]
    return [line for line in lines if _STAMPED.match(line)][:limit]


def segments(steps: dict[str, float]) -> dict[str, float]:
    """Seconds between milestones: the guest's boot split into consecutive parts.

    ``kernel``: power-on to ``/init``; ``before_network``: modules, config drive,
    state disk, hostname and keys (the network is being configured meanwhile);
    ``network``: what the init then still waits for the network (DHCP lease
    included); ``after_network``: scripts, SSH host key and dropbear, up to the
    finished line. Parts whose milestones are missing are left out.
    """
    order = [
        ("kernel", None, "init"),
        ("before_network", "init", "network_wait"),
        ("network", "network_wait", "network_ready"),
        ("after_network", "network_ready", "finished"),
    ]
    out: dict[str, float] = {}
    for name, start, end in order:
        if end not in steps or (start is not None and start not in steps):
            continue
        out[name] = round(steps[end] - (steps[start] if start is not None else 0.0), 3)
    return out
