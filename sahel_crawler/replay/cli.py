"""`python -m sahel_crawler.replay`: serve the bundled outlets until interrupted."""

from __future__ import annotations

import argparse
import contextlib
import threading
from collections.abc import Sequence
from pathlib import Path

from sahel_crawler.replay.bundled import DEFAULT_HOSTS


def serve_forever_cli(argv: Sequence[str] | None = None) -> None:
    """Serve the replay, print each outlet's base URL, and stop on Ctrl-C.

    Example: python -m sahel_crawler.replay --port 8024 --sources /tmp/sources.yaml
    """
    from sahel_crawler.replay.server import ReplayServer

    parser = argparse.ArgumentParser(prog="python -m sahel_crawler.replay", description=serve_forever_cli.__doc__)
    parser.add_argument("--port", type=int, default=0, help="port on every host (default: free ports)")
    parser.add_argument(
        "--host",
        action="append",
        metavar="OUTLET=IP",
        help=f"bind an outlet to an IP (default: {', '.join(f'{k}={v}' for k, v in DEFAULT_HOSTS.items())})",
    )
    parser.add_argument("--sources", type=Path, help="also write a sources registry pointing at the server")
    args = parser.parse_args(argv)
    hosts = dict(item.split("=", 1) for item in args.host) if args.host else None
    with ReplayServer(hosts, port=args.port) as replay:
        for outlet in replay.hosts:
            print(f"{outlet}: {replay.base_url(outlet)}", flush=True)
        if args.sources:
            print(f"sources: {replay.write_sources(args.sources)}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
