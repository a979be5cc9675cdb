"""The SSRF guard: a webhook URL may only reach the public internet.

The host is resolved when an endpoint is registered and again for every connection, and
the sender connects to the address vetted here (never resolving twice), so a name that
later resolves to an internal address cannot be used to reach one. IPv6 forms that
embed an IPv4 address (IPv4-mapped, NAT64, 6to4) are judged by the address they embed.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

IP = ipaddress.IPv4Address | ipaddress.IPv6Address

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_SIX_TO_FOUR = ipaddress.ip_network("2002::/16")


class RefusedURL(ValueError):
    """The URL may not be used; the message says why."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[str, ...]


def embedded_ipv4(ip: IP) -> ipaddress.IPv4Address | None:
    if ip.version != 6:
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip in _SIX_TO_FOUR:
        return ip.sixtofour
    return None


def is_public(ip: IP) -> bool:
    """True only for globally routable unicast addresses (and embedded ones alike)."""
    inner = embedded_ipv4(ip)
    if inner is not None and not is_public(inner):
        return False
    return ip.is_global and not (
        ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_private
    )


def parse(url: str, *, allow_private: bool) -> tuple[str, str, int, str]:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise RefusedURL(f"Not a valid URL: {exc}.") from exc
    scheme = parts.scheme.lower()
    allowed = ("https", "http") if allow_private else ("https",)
    if scheme not in allowed:
        raise RefusedURL("Use an https:// URL.")
    if not parts.hostname:
        raise RefusedURL("The URL has no host.")
    if parts.username or parts.password:
        raise RefusedURL("Credentials in the URL are not allowed; verify signatures instead.")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return scheme, parts.hostname, port or (443 if scheme == "https" else 80), path


def resolve(url: str, *, allow_private: bool) -> Target:
    """Check ``url`` and resolve its host to addresses that may be connected to."""
    scheme, host, port, path = parse(url, allow_private=allow_private)
    try:
        literal = ipaddress.ip_address(host)
        found = [literal]
    except ValueError:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise RefusedURL(f"The host {host!r} does not resolve.") from exc
        found = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    if not allow_private:
        refused = [str(ip) for ip in found if not is_public(ip)]
        if refused:
            raise RefusedURL(
                f"The host {host!r} resolves to a non-public address ({', '.join(refused)})."
            )
    addresses = tuple(dict.fromkeys(str(ip) for ip in found))
    return Target(scheme=scheme, host=host, port=port, path=path, addresses=addresses)
