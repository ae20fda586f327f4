"""The guard on outbound HTTP (webhooks, HTTP steps): no requests to private networks.

A workflow author chooses URLs that our servers then request. Without a guard
that is server-side request forgery: ``http://169.254.169.254/`` (cloud
credentials), ``http://localhost:6379`` (the broker), the office LAN. So:

- only ``http`` and ``https``;
- the host is resolved (``getaddrinfo``, every address) and refused if **any**
  address is loopback, private, link-local, multicast, reserved, unspecified or
  otherwise not globally routable — IPv4 and IPv6, judging the IPv4 address
  embedded in IPv4-mapped (``::ffff:127.0.0.1``), NAT64 (``64:ff9b::/96``) and
  6to4 (``2002::/16``) addresses too;
- unless ``settings.PRSM_OUTBOUND_ALLOWLIST`` allows it. Entries are host names
  (``hooks.lab.internal``; ``*.lab.internal`` for its subdomains), which allow
  that name whatever it resolves to, or IP addresses / CIDR networks
  (``10.1.2.3``, ``10.0.0.0/8``, ``fd00::/8``), which allow those addresses.

DNS rebinding (a name that resolves to a public address when checked and to a
private one when connected) is closed by :class:`GuardedTransport`: for every
request — each redirect hop included — it resolves the name once, checks the
addresses and connects to the checked address, keeping the name in the ``Host``
header and as the TLS server name (SNI and certificate verification). Names
allowed by name are connected to normally. Proxies from the environment are
ignored (``trust_env=False``): a proxy would resolve the name itself.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from django.conf import settings

__all__ = [
    "DEFAULT_TIMEOUT",
    "MAX_REDIRECTS",
    "GuardedTransport",
    "OutboundBlocked",
    "OutboundUnresolvable",
    "check_url",
    "safe_client",
]

ALLOWED_SCHEMES = frozenset({"http", "https"})
MAX_REDIRECTS = 5
DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class OutboundBlocked(Exception):
    """The URL may not be requested: bad scheme, or a private or reserved address."""


class OutboundUnresolvable(OutboundBlocked):
    """The host name did not resolve. Possibly transient (DNS down), unlike the rest."""


@dataclass(frozen=True)
class _Allowlist:
    names: frozenset[str]
    suffixes: tuple[str, ...]
    networks: tuple[IPNetwork, ...]

    def allows_host(self, host: str) -> bool:
        return host in self.names or any(host.endswith(s) for s in self.suffixes)

    def allows_address(self, ip: IPAddress) -> bool:
        return any(ip.version == net.version and ip in net for net in self.networks)


def _allowlist() -> _Allowlist:
    names: set[str] = set()
    suffixes: list[str] = []
    networks: list[IPNetwork] = []
    for raw in getattr(settings, "PRSM_OUTBOUND_ALLOWLIST", None) or ():
        entry = str(raw).strip().lower()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            continue
        except ValueError:
            pass
        if entry.startswith("*."):
            suffixes.append(entry[1:].rstrip("."))
        else:
            names.add(entry.rstrip("."))
    return _Allowlist(frozenset(names), tuple(suffixes), tuple(networks))


def _why_blocked(ip: IPAddress) -> str | None:
    """Why ``ip`` is not a public address, or None if it is one."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return _why_blocked(ip.ipv4_mapped)
        if ip in _NAT64:
            return _why_blocked(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        if ip.sixtofour is not None and _why_blocked(ip.sixtofour):
            return "a 6to4 address of a non-public IPv4 address"
        if ip.is_site_local:
            return "a site-local address"
    for attribute, reason in (
        ("is_unspecified", "an unspecified address"),
        ("is_loopback", "a loopback address"),
        ("is_link_local", "a link-local address"),
        ("is_multicast", "a multicast address"),
        ("is_private", "a private address"),
        ("is_reserved", "a reserved address"),
    ):
        if getattr(ip, attribute):
            return reason
    if not ip.is_global:
        return "not a globally routable address"
    return None


def _parse_ip(text: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])  # drop an IPv6 zone id
    except ValueError:
        return None


def _resolve(host: str, port: int) -> list[IPAddress]:
    literal = _parse_ip(host)
    if literal is not None:
        return [literal]
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise OutboundUnresolvable(f"{host} does not resolve ({exc})") from None
    addresses: list[IPAddress] = []
    for info in infos:
        ip = _parse_ip(str(info[4][0]))
        if ip is not None and ip not in addresses:
            addresses.append(ip)
    if not addresses:
        raise OutboundUnresolvable(f"{host} resolves to no address")
    return addresses


def _host_and_port(url: httpx.URL) -> tuple[str, int]:
    if url.scheme not in ALLOWED_SCHEMES:
        raise OutboundBlocked(f"only http and https URLs are allowed, not {url.scheme or 'none'!r}")
    host = url.raw_host.decode("ascii").lower().rstrip(".")
    if not host:
        raise OutboundBlocked("the URL has no host")
    return host, url.port or (443 if url.scheme == "https" else 80)


def _checked_addresses(url: httpx.URL) -> tuple[str, int, list[IPAddress] | None]:
    """Host, port, and the vetted addresses — ``None`` when the host is allow-listed
    by name (then any address is fine and the name is connected to normally)."""
    host, port = _host_and_port(url)
    allow = _allowlist()
    if allow.allows_host(host):
        return host, port, None
    addresses = _resolve(host, port)
    for ip in addresses:
        reason = _why_blocked(ip)
        if reason and not allow.allows_address(ip):
            shown = host if str(ip) == host else f"{host} ({ip})"
            raise OutboundBlocked(
                f"{shown} is {reason}; requests to it are refused unless "
                "PRSM_OUTBOUND_ALLOWLIST allows it"
            )
    return host, port, addresses


def _as_url(url: str | httpx.URL) -> httpx.URL:
    try:
        return url if isinstance(url, httpx.URL) else httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise OutboundBlocked(f"not a valid URL: {exc}") from None


def check_url(url: str | httpx.URL) -> None:
    """Raise :class:`OutboundBlocked` unless ``url`` may be requested now.

    :class:`OutboundUnresolvable` (a subclass) means the name did not resolve.
    The answer can change with DNS; :func:`safe_client` checks again on every
    request, so this is for early, friendly errors (e.g. validating a config).
    """
    _checked_addresses(_as_url(url))


class GuardedTransport(httpx.BaseTransport):
    """Checks every request's URL and connects to the address it checked.

    Connections are pooled per host *name* (one inner transport each): pinned
    requests carry the address in their URL, and a pool keyed by address alone
    could send a request for one name over a TLS connection verified for another
    name served from the same address.
    """

    def __init__(self, transport_factory: Callable[[], httpx.BaseTransport]) -> None:
        self._factory = transport_factory
        self._inners: dict[str, httpx.BaseTransport] = {}
        self._lock = threading.Lock()

    def _inner(self, host: str) -> httpx.BaseTransport:
        with self._lock:
            inner = self._inners.get(host)
            if inner is None:
                inner = self._inners[host] = self._factory()
            return inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        host, _port, addresses = _checked_addresses(request.url)
        inner = self._inner(host)
        if addresses is None or _parse_ip(host) is not None:
            return inner.handle_request(request)
        # Pin the connection to the vetted address. A new Request, not a mutated
        # one: httpx resolves redirects against ``response.request`` and must see
        # the original URL. The Host header was set from the original URL already.
        pinned = httpx.Request(
            request.method,
            request.url.copy_with(host=str(addresses[0])),
            headers=request.headers,
            stream=request.stream,
            extensions={**request.extensions, "sni_hostname": host},
        )
        return inner.handle_request(pinned)

    def close(self) -> None:
        with self._lock:
            inners, self._inners = list(self._inners.values()), {}
        for inner in inners:
            inner.close()


_TRANSPORT_OPTIONS = ("verify", "cert", "http1", "http2", "limits", "retries")
_REFUSED_OPTIONS = ("transport", "mounts", "proxy", "proxies", "trust_env", "app")


def safe_client(**httpx_kwargs: Any) -> httpx.Client:
    """An ``httpx.Client`` whose every request — redirects included — passes the guard.

    Defaults: 10 s timeout (5 s to connect), redirects followed up to
    :data:`MAX_REDIRECTS` hops (each hop checked; pass ``follow_redirects=False``
    to get 3xx responses instead), no proxies from the environment. Other
    keyword arguments go to ``httpx.Client`` (``verify``, ``http2``, ``limits``…
    to its transport). Options that would route around the guard (``transport``,
    ``mounts``, ``proxy``, ``trust_env``) raise ``TypeError``. A blocked request
    raises :class:`OutboundBlocked` from the ``send``/``get``/``post`` call.
    """
    refused = sorted(set(httpx_kwargs) & set(_REFUSED_OPTIONS))
    if refused:
        raise TypeError(f"safe_client does not accept {', '.join(refused)}: they bypass the guard")
    transport_options = {k: httpx_kwargs.pop(k) for k in _TRANSPORT_OPTIONS if k in httpx_kwargs}
    httpx_kwargs.setdefault("timeout", DEFAULT_TIMEOUT)
    httpx_kwargs.setdefault("follow_redirects", True)
    httpx_kwargs.setdefault("max_redirects", MAX_REDIRECTS)
    transport = GuardedTransport(lambda: httpx.HTTPTransport(**transport_options))
    return httpx.Client(transport=transport, trust_env=False, **httpx_kwargs)
