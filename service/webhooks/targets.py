"""Where a delivery may go: HTTPS to public addresses, checked at registration and at every send.

A URL is refused when its host is, or resolves to, an address that is not globally routable
(loopback, private, link-local, carrier-grade NAT, multicast, reserved), or one of the cloud
metadata services, some of which sit on public addresses. Every address a name resolves to must
pass, and the delivery connects to an address that passed (never resolving again), so a name that
changes its answer between the check and the connection (DNS rebinding) gains nothing.

`INGRAIN_WEBHOOKS_ALLOW_LOOPBACK=true` lets loopback through, plain `http` included: for
development and tests, never production.
"""

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[str]]]

MAX_URL_CHARS = 2000
RESOLVE_TIMEOUT_SECONDS = 5.0

# Instance metadata and platform services reached from inside a cloud: some are link-local (and so
# refused anyway), some are public addresses.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean, Oracle
        "169.254.170.2",  # AWS ECS task metadata
        "fd00:ec2::254",  # AWS over IPv6
        "100.100.100.200",  # Alibaba Cloud
        "168.63.129.16",  # Azure WireServer (a public address)
        "192.0.0.192",  # Oracle Cloud
    )
)
METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata", "instance-data", "metadata.azure.com"})


class TargetRefused(Exception):
    """The URL may not receive deliveries; `rule` names why, for the problem's `errors`."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message


@dataclass(frozen=True, slots=True)
class Target:
    url: httpx.URL
    host: str
    addresses: tuple[IPAddress, ...]

    def pinned(self, address: IPAddress) -> httpx.URL:
        """The URL with its host replaced by an address that passed the check."""
        return self.url.copy_with(host=str(address))


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


# Replaced in tests to give a name an answer without a DNS server.
resolve: Resolver = system_resolver


def parse(url: str, *, allow_loopback: bool) -> httpx.URL:
    if len(url) > MAX_URL_CHARS:
        raise TargetRefused("max_length", f"is longer than {MAX_URL_CHARS} characters")
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError, TypeError) as error:
        raise TargetRefused("url", f"is not a URL ({error})") from None
    if parsed.scheme not in ("https", "http"):
        raise TargetRefused("https_only", "must be an https:// URL")
    if parsed.scheme == "http" and not allow_loopback:
        raise TargetRefused("https_only", "must be an https:// URL")
    if not parsed.host:
        raise TargetRefused("url", "has no host")
    if parsed.userinfo:
        raise TargetRefused("no_credentials", "must not carry a user name or password")
    if parsed.fragment:
        raise TargetRefused("no_fragment", "must not carry a #fragment")
    return parsed


def refusal(address: IPAddress, *, allow_loopback: bool) -> TargetRefused | None:
    """Why a delivery may not go to `address`, or None when it may."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour or (address.teredo or (None, None))[1]
        if embedded is not None:
            return refusal(embedded, allow_loopback=allow_loopback)
    if address in METADATA_ADDRESSES:
        return TargetRefused("ssrf_metadata", f"resolves to {address}, a cloud metadata address")
    if address.is_loopback:
        if allow_loopback:
            return None
        return TargetRefused("ssrf_loopback", f"resolves to {address}, a loopback address")
    if address.is_link_local:
        return TargetRefused("ssrf_link_local", f"resolves to {address}, a link-local address")
    if address.is_multicast or address.is_unspecified or address.is_reserved:
        return TargetRefused("ssrf_reserved", f"resolves to {address}, which is not a host on the internet")
    if not address.is_global:
        return TargetRefused("ssrf_private", f"resolves to {address}, a private address")
    return None


async def vet(url: str, *, allow_loopback: bool) -> Target:
    """The URL parsed and its host resolved, every address checked; TargetRefused otherwise."""
    parsed = parse(url, allow_loopback=allow_loopback)
    host = parsed.host.rstrip(".").lower()
    if host in METADATA_HOSTS:
        raise TargetRefused("ssrf_metadata", f"names {host}, a cloud metadata service")
    try:
        answers = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            resolved = await asyncio.wait_for(resolve(host, parsed.port or 443), RESOLVE_TIMEOUT_SECONDS)
        except (OSError, TimeoutError, UnicodeError) as error:
            raise TargetRefused("unresolvable", f"host {host} does not resolve ({error})") from None
        answers = [ipaddress.ip_address(a.split("%", 1)[0]) for a in resolved]
    if not answers:
        raise TargetRefused("unresolvable", f"host {host} does not resolve")
    for address in answers:
        refused = refusal(address, allow_loopback=allow_loopback)
        if refused is not None:
            raise refused
    if parsed.scheme == "http" and not all(a.is_loopback for a in answers):
        raise TargetRefused("https_only", "must be an https:// URL (plain http only to loopback)")
    return Target(parsed, host, tuple(dict.fromkeys(answers)))
