"""The HTTP bridge the editor plugins talk to (aiohttp, localhost, bearer token)."""

from .app import make_app

__all__ = ["make_app"]
