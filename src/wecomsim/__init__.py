"""wecomsim: an offline simulator of WeCom's (企业微信) server side.

The same HTTP API (paths, JSON fields, error codes, cursors), the same encrypted callbacks, WeCom's
business rules, a controllable clock, fault injection, and a control API under /sim/ that plays the
customers and staff. See docs/wecomsim.md.
"""

__all__ = ["__version__"]
__version__ = "0.1.0"
