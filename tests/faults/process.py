"""Run a `sahel` command as a child process and measure it: exit status, output, peak memory."""

from __future__ import annotations

import os
import signal
import tempfile
import time
from dataclasses import dataclass

from tests.conftest import start_sahel


@dataclass
class Measured:
    """A finished child: what `run_sahel` gives, plus the peak resident memory of its process tree."""

    returncode: int
    stdout: str
    stderr: str
    peak_rss_mb: float


def run_measured(*args: str, timeout: float, env: dict[str, str] | None = None) -> Measured:
    """Run `python -m sahel_crawler ARGS`; kill it (and fail) after `timeout` seconds.

    Peak memory comes from wait4(2) for this very child, so other processes do not blur it.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = start_sahel(*args, env=env, stdout=out, stderr=err, start_new_session=True)
        deadline = time.monotonic() + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                os.killpg(proc.pid, signal.SIGKILL)
                os.wait4(proc.pid, 0)
                raise TimeoutError(f"sahel {' '.join(args[:1])} still running after {timeout} s: it hangs")
            time.sleep(0.2)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Measured(
            proc.returncode,
            out.read().decode("utf-8", "replace"),
            err.read().decode("utf-8", "replace"),
            usage.ru_maxrss / 1024,  # kilobytes on Linux
        )
