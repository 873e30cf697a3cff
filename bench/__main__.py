"""Run the project's benchmarks: `python -m bench` runs all, `python -m bench NAME ...` one.

Each benchmark is a module `bench/NAME.py` with a `main(argv: list[str]) -> dict` that prints
its own table and returns its results; results are written to `bench/results/NAME.json`.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys
from pathlib import Path

RESULTS_DIR = Path(__file__).parent / "results"


HELPER_MODULES = {"common", "sites", "served"}  # shared code of the benchmarks, not benchmarks


def _benchmarks() -> list[str]:
    here = Path(__file__).parent
    names = (m.name for m in pkgutil.iter_modules([str(here)]))
    return sorted(n for n in names if not n.startswith("_") and n not in HELPER_MODULES)


def run(name: str, argv: list[str]) -> dict:
    """Run one benchmark module and save what it returns."""
    module = importlib.import_module(f"bench.{name}")
    result = module.main(argv)
    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / f"{name}.json").write_text(json.dumps(result, indent=2, default=str) + "\n")
    return result


def main(argv: list[str]) -> int:
    names = _benchmarks()
    if argv and argv[0] in ("-h", "--help"):
        print(__doc__)
        print("benchmarks:", ", ".join(names))
        return 0
    if argv:
        if argv[0] not in names:
            print(f"unknown benchmark {argv[0]!r}; choose from: {', '.join(names)}", file=sys.stderr)
            return 2
        run(argv[0], argv[1:])
        return 0
    for name in names:
        print(f"== {name}")
        run(name, [])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
