"""Benchmarks of the project: `python -m bench [NAME] [args]` (see bench/__main__.py)."""
