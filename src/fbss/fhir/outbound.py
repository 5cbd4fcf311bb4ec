"""The one door for requests to an EHR: the CDS Hooks service's FHIR queries (`get_json`, under the full policy
below) and the SMART launch's discovery, token exchange and chart reads (`send`, to EHRs an administrator
registered in FBSS_SMART_CLIENTS: parsed URLs and bounded responses, private addresses allowed).

- URLs are parsed and compared part by part (scheme, host, port, path segments), never as strings: a server is on the
  allow list only if its origin is equal and its path lies under an allowed base path. User-info (`a@b`), `.`/`..`
  segments, encoded dots and slashes, backslashes, fragments and non-ASCII characters are refused.
- `next` links and redirects must stay under the same base; redirects are followed by hand (at most 3), each checked.
- The host is resolved once and every address it resolves to is checked; the connection goes to that checked address
  (with the host name kept for TLS and the Host header), so a DNS answer cannot change between check and connect.
  Loopback, private, link-local and other non-public addresses are refused unless the server is on the allow list
  (the operator named it) or `FBSS_CDS_ALLOW_PRIVATE_FHIR=true`.
- Each request has its time-out; the whole call has a deadline (a server that drips one byte a second is cut off);
  each response and all responses of a call have a size limit, checked while the body streams in.
- Errors name the server and what went wrong in general terms, never which internal port answered how.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from fbss import jsonlimits
from fbss.errors import FbssError

Resolver = Callable[[str, int], Awaitable[list[str]]]
MAX_REDIRECTS = 3
_DEFAULT_PORTS = {"http": 80, "https": 443}
_UNSAFE = re.compile(r"%(?:2e|2f|5c|00)|\\", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x20\x7f]")


class OutboundRefusedError(FbssError):
    """A URL or an address the policy does not allow (answered as 412 Precondition Failed)."""


class OutboundFailedError(FbssError):
    """The server could not be reached, answered too slowly or too much (412, or the data is named unavailable)."""


@dataclass(frozen=True, slots=True)
class Location:
    """A parsed http(s) URL: origin, path segments and the query, as the policy compares them."""

    scheme: str
    host: str
    port: int
    segments: tuple[str, ...]
    query: str

    @classmethod
    def parse(cls, url: str, what: str = "URL") -> Location:
        if not isinstance(url, str) or not url.isascii() or len(url) > 4000 or _CONTROL.search(url):
            raise OutboundRefusedError(f"{what}: not a plain http(s) URL")
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise OutboundRefusedError(f"{what}: not a valid URL") from None
        if _UNSAFE.search(parts.netloc + parts.path):  # the query may hold encoded slashes (a search value)
            raise OutboundRefusedError(f"{what}: encoded dots or slashes, or backslashes, in the address")
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORTS:
            raise OutboundRefusedError(f"{what}: only http and https are allowed")
        if "@" in parts.netloc or parts.username is not None or parts.password is not None:
            raise OutboundRefusedError(f"{what}: user names or passwords in the URL are not allowed")
        host = (parts.hostname or "").rstrip(".").lower()
        if not host:
            raise OutboundRefusedError(f"{what}: no host")
        if parts.fragment:
            raise OutboundRefusedError(f"{what}: no fragment (#...) allowed")
        segments = tuple(parts.path.split("/")[1:]) if parts.path else ()
        if segments and segments[-1] == "":
            segments = segments[:-1]  # a trailing slash
        if any(s in ("", ".", "..") for s in segments):
            raise OutboundRefusedError(f"{what}: empty, '.' or '..' path segments are not allowed")
        return cls(scheme, host, port or _DEFAULT_PORTS[scheme], segments, parts.query)

    def under(self, base: Location) -> bool:
        """Same origin, and the path is the base path or lies below it (segment by segment)."""
        return (self.scheme, self.host, self.port) == (base.scheme, base.host, base.port) and self.segments[
            : len(base.segments)
        ] == base.segments

    @property
    def origin(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = _DEFAULT_PORTS[self.scheme] == self.port
        return f"{self.scheme}://{host}" + ("" if default else f":{self.port}")

    def url(self, host: str | None = None) -> str:
        """The URL, optionally with another host (an IP address) in place of the name."""
        name = host or self.host
        shown = f"[{name}]" if ":" in name else name
        path = "/" + "/".join(self.segments)
        return f"{self.scheme}://{shown}:{self.port}{path}" + (f"?{self.query}" if self.query else "")


async def _system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


@dataclass(frozen=True)
class OutboundPolicy:
    """Where the service may send a request, how long it may take and how much it may read."""

    allowed: tuple[Location, ...] = ()
    allow_private: bool = False
    request_timeout: float = 3.0
    deadline: float = 10.0
    max_response_bytes: int = 20_000_000
    max_total_bytes: int = 50_000_000
    resolver: Resolver = field(default=_system_resolver, compare=False)

    @classmethod
    def from_urls(cls, urls: tuple[str, ...], **options: Any) -> OutboundPolicy:
        return cls(allowed=tuple(Location.parse(u, "FBSS_CDS_ALLOWED_FHIR_SERVERS") for u in urls), **options)

    def server(self, url: str) -> Location:
        """The client's `fhirServer`, if the policy lets the service query it."""
        base = Location.parse(url, "fhirServer")
        if base.query:
            raise OutboundRefusedError("fhirServer: a base URL has no query")
        if self.allowed and not any(base.under(allowed) for allowed in self.allowed):
            raise OutboundRefusedError(f"fhirServer {base.origin} is not on the allow list")
        return base

    async def address(self, location: Location) -> str:
        """The checked address to connect to: every address the host resolves to must be allowed."""
        try:
            addresses = [str(ipaddress.ip_address(location.host))]
        except ValueError:
            try:
                addresses = await self.resolver(location.host, location.port)
            except OSError:
                raise OutboundFailedError(f"{location.origin}: the host name could not be resolved") from None
        if not addresses:
            raise OutboundFailedError(f"{location.origin}: the host name could not be resolved")
        trusted = self.allow_private or any(location.under(allowed) for allowed in self.allowed)
        if not trusted and not all(_public(a) for a in addresses):
            raise OutboundRefusedError(
                f"{location.origin}: a private, loopback or otherwise non-public address; add the server to "
                "FBSS_CDS_ALLOWED_FHIR_SERVERS to query it"
            )
        return addresses[0]


@dataclass
class Budget:
    """What one call may still spend: time until the deadline, and bytes."""

    deadline_at: float
    bytes_left: int


async def get_json(
    client: httpx.AsyncClient,
    policy: OutboundPolicy,
    base: Location,
    url: str,
    headers: dict[str, str],
    budget: Budget,
) -> tuple[int, Any]:
    """GET a URL under `base` (following checked redirects) before the call's deadline: (status, decoded JSON;
    None for an error status, NOT_JSON for a body that is not JSON)."""
    async with asyncio.timeout_at(budget.deadline_at):
        for _hop in range(MAX_REDIRECTS + 1):
            target = Location.parse(url, "URL")
            if not target.under(base):
                raise OutboundRefusedError(
                    f"{target.origin}: a link or redirect away from the FHIR server was not followed"
                )
            address = await policy.address(target)
            request_headers = {**headers, "Host": target.origin.split("://", 1)[1]}
            async with client.stream(
                "GET", target.url(address), headers=request_headers, extensions={"sni_hostname": target.host}
            ) as response:
                if response.status_code in (301, 302, 303, 307, 308) and "location" in response.headers:
                    url = urljoin(target.url(), response.headers["location"])
                    continue
                body = await _read(response, min(policy.max_response_bytes, budget.bytes_left), base)
                budget.bytes_left -= len(body)
                status = response.status_code
            if status >= 400:
                return status, None
            try:
                return status, jsonlimits.loads(body)
            except (ValueError, RecursionError):
                return status, NOT_JSON
    raise OutboundFailedError(f"{base.origin}: more than {MAX_REDIRECTS} redirects")


async def _read(response: httpx.Response, limit: int, base: Location) -> bytes:
    """The body, read in pieces and refused as soon as it passes the limit (never buffered whole first)."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise OutboundFailedError(f"{base.origin}: a response larger than {limit / 1_000_000:g} MB")
    body = bytearray()
    async for chunk in response.aiter_bytes():  # decoded: a compressed bomb is stopped too
        body += chunk
        if len(body) > limit:
            raise OutboundFailedError(f"{base.origin}: a response larger than {limit / 1_000_000:g} MB")
    return bytes(body)


NOT_JSON = object()


SEND_MAX_BYTES = 50_000_000


async def send(client: httpx.AsyncClient, method: str, url: str, **kwargs: Any) -> httpx.Response:
    """One request to a registered EHR (SMART launch): a plain http(s) URL (no user-info, no '..'), no redirects
    followed, and the response read as it streams in, refused past SEND_MAX_BYTES."""
    target = Location.parse(url, "URL")
    async with client.stream(method, target.url(), **kwargs) as response:
        body = await _read(response, SEND_MAX_BYTES, target)
        # The body is already decoded: drop what would make httpx decode or frame it again.
        headers = [
            (k, v)
            for k, v in response.headers.items()
            if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")
        ]
        return httpx.Response(response.status_code, headers=headers, content=body, request=response.request)
