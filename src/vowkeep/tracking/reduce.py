"""Reducing what a browser reveals to what statistics need (COL-5).

The IP address becomes a country (from the offline `iptocc` data shipped with the package) and is then dropped:
it is never stored, logged or returned. The user agent becomes a browser family, an OS family and a device class.
Pages lose their query strings and fragments, referrers keep only their host, and search terms that look like an
e-mail address or a phone number are cut out.
"""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache
from urllib.parse import urlsplit

MAX_PATH = 500
MAX_SEARCH = 200
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
_PERSONAL_TOKEN = re.compile(r"\S*@\S*|\+?\d[\d\s().-]{6,}\d")
_TABLETS = ("ipad", "tablet", "kindle", "galaxy tab", "nexus 7", "nexus 9", "nexus 10")


def country(ip: str | None) -> str | None:
    """The ISO country code of a public address, or None (private, local or unknown addresses)."""
    if not ip:
        return None
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    if not address.is_global:
        return None
    from iptocc import country_code

    return country_code(str(address))


@lru_cache(maxsize=4096)
def user_agent(header: str | None) -> tuple[str | None, str | None, str]:
    """(browser family, OS family, device class: desktop | mobile | tablet | bot) of a User-Agent header."""
    if not header:
        return None, None, "desktop"
    from ua_parser import parse

    header = header[:512]
    result = parse(header)
    browser = result.user_agent.family if result.user_agent else None
    os_family = result.os.family if result.os else None
    device = (result.device.family if result.device else "") or ""
    lowered = header.lower()
    if device == "Spider" or "bot" in lowered or "spider" in lowered or "crawl" in lowered:
        device_class = "bot"
    elif any(t in lowered for t in _TABLETS) or device.lower().startswith("ipad"):
        device_class = "tablet"
    elif "mobi" in lowered or os_family in ("iOS",) or (os_family == "Android" and "mobile" in lowered):
        device_class = "mobile"
    elif os_family == "Android":
        device_class = "tablet"
    else:
        device_class = "desktop"
    return _short(browser, 64), _short(os_family, 64), device_class


def _short(value: str | None, limit: int) -> str | None:
    if value is None or value == "Other":
        return None
    return value[:limit]


def page_path(value: object) -> str | None:
    """The path of a page address, without scheme, host, query string or fragment."""
    if not isinstance(value, str) or not value:
        return None
    parts = urlsplit(value.strip())
    path = parts.path or "/"
    if not path.startswith("/"):
        path = "/" + path
    return path[:MAX_PATH]


def link_target(value: object) -> str | None:
    """Where a clicked link goes: host and path for other sites, the path alone for this one; never a query."""
    if not isinstance(value, str) or not value:
        return None
    parts = urlsplit(value.strip())
    if parts.scheme in ("mailto", "tel", "sms", "javascript", "data"):
        return f"{parts.scheme}:"  # the address itself may be personal
    path = parts.path or "/"
    host = (parts.hostname or "").lower()
    return (f"{host}{path}" if host else path)[:MAX_PATH]


def referrer_host(value: object) -> str | None:
    """The host of a referring page, or None."""
    if not isinstance(value, str) or not value:
        return None
    host = urlsplit(value.strip()).hostname
    return host.lower()[:255] if host else None


def language(value: object) -> str | None:
    """A BCP 47 language tag of the form `en` or `en-GB`, or None."""
    if not isinstance(value, str) or not _LANGUAGE.match(value):
        return None
    return value


def search_terms(value: object) -> str | None:
    """Search terms, lower-cased and trimmed, with anything like an e-mail address or phone number removed."""
    if not isinstance(value, str):
        return None
    cleaned = " ".join(_PERSONAL_TOKEN.sub(" ", value.lower()).split())
    return cleaned[:MAX_SEARCH] or None
