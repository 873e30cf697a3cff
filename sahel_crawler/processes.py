"""Telling whether a process recorded earlier (a crawl's run, a frontier folder's owner) is gone.

A process is named by its pid, its host and its start: the kernel reuses pids, so a pid alone
could name a later, unrelated process. On Linux the start is the boot id and the process's start
time in clock ticks since boot (from /proc); elsewhere it is empty and the pid alone is checked.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path

_PROC = Path("/proc")


@dataclass(frozen=True)
class ProcessIdentity:
    """Who a process is, in a form that survives the process: pid, host name, start token."""

    pid: int
    host: str
    start: str  # "" where the platform does not tell


def this_process() -> ProcessIdentity:
    """The identity of the calling process."""
    pid = os.getpid()
    return ProcessIdentity(pid, socket.gethostname(), _start_token(pid) or "")


def is_gone(process: ProcessIdentity) -> bool | None:
    """True when the process has ended (or its pid now names another process), False while it
    runs, None when this machine cannot tell (a process of another host)."""
    if process.host != socket.gethostname():
        return None
    if process.start:
        return _start_token(process.pid) != process.start
    try:
        os.kill(process.pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # it exists, under another user
        return False
    return False


def _start_token(pid: int) -> str | None:
    """The start token of a living process ("<boot id>:<start ticks>"); None for a gone or zombie
    one, or without /proc."""
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
        boot = (_PROC / "sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return None
    # the command name (field 2) may hold spaces and parentheses: count fields after its last ")"
    fields = stat[stat.rindex(")") + 2 :].split()
    state, start_ticks = fields[0], fields[19]
    return None if state in ("Z", "X") else f"{boot}:{start_ticks}"
