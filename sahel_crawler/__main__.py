"""`python -m sahel_crawler ...` is the same as `sahel ...`."""

from sahel_crawler.cli import main

main(prog_name="sahel")
