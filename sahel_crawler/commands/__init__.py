"""One module per group of `sahel` commands; `sahel_crawler.cli` assembles them."""
