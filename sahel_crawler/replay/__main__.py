"""Serve the bundled replay: python -m sahel_crawler.replay [--port N] [--sources FILE]."""

from sahel_crawler.replay.cli import serve_forever_cli

if __name__ == "__main__":
    serve_forever_cli()
