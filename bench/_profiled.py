"""Run a module under cProfile counting CPU time of the main thread (the reactor), not wall time.

Usage: python -m bench._profiled OUT.prof MODULE [ARGS...]   (runs like python -m MODULE ARGS...)

Wall-clock profiles of a crawl are misleading on a busy machine: the reactor is descheduled while
the extraction workers run, and every function looks slower than it is. `time.thread_time`
counts only what the main thread itself spends.
"""

from __future__ import annotations

import cProfile
import runpy
import sys
import time


def main() -> None:
    """Profile `python -m MODULE ARGS...` and write the statistics to OUT.prof."""
    out, module, *args = sys.argv[1:]
    sys.argv = [module, *args]
    profiler = cProfile.Profile(time.thread_time)
    try:
        profiler.runcall(runpy.run_module, module, run_name="__main__", alter_sys=True)
    except SystemExit:
        pass
    finally:
        profiler.dump_stats(out)


if __name__ == "__main__":
    main()
