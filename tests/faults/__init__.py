"""A fault-injection HTTP server for tests, in the manner of Scrapy's own mock server: hostile and
broken responses (slow, dripping, reset, bombs, loops, bad encodings, broken XML) served on loopback
beside good article pages, so a crawl can prove it goes on and loses nothing.
"""

from tests.faults.server import FaultServer, Route
from tests.faults.site import FaultSite, build_fault_site

__all__ = ["FaultServer", "FaultSite", "Route", "build_fault_site"]
