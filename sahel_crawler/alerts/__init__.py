"""Watch rules and alerts (docs/alerts.md): rules from watch.yaml, evaluation after each crawl,
deliveries by webhook, email and Atom feed, once per rule and story."""
