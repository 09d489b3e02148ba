"""Fetching a web page to ingest, behind a guard against server-side request forgery:
`guard` judges addresses, `fetcher` resolves, connects and follows redirects, `naming` names the
page."""

from ragis.gateway.fetch.fetcher import FetchedPage, FetchLimits, PageFetcher, check_url
from ragis.gateway.fetch.guard import AddressGuard, AddressKind, Guard, classify

__all__ = [
    "AddressGuard",
    "AddressKind",
    "FetchLimits",
    "FetchedPage",
    "Guard",
    "PageFetcher",
    "check_url",
    "classify",
]
