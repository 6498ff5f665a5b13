"""Server-side request forgery guard for webhook URLs.

A webhook makes the server POST to a URL someone typed in, so without a guard an API user could
make Flowdesk call its own admin endpoints on localhost, the database on the private network or
the cloud metadata service (169.254.169.254) and read the answer in the delivery log. So:

- only http and https URLs are accepted;
- the host is resolved and **every** address it resolves to must be a public (global unicast)
  address: loopback, private, link-local, shared (CGNAT), multicast, reserved, unspecified and
  the cloud metadata addresses are refused, also when written as IPv4-mapped IPv6;
- the check runs when a subscription is created (a 422 with the reason) and again before every
  delivery, and the delivery then connects to the address that was checked (the URL's host is
  kept for the Host header and TLS SNI/certificate check). A DNS name that answered with a
  public address at creation and a private one later (DNS rebinding) is refused at delivery.

`FLOWDESK_WEBHOOK_ALLOWED_NETWORKS` lists networks (CIDR, or single addresses) that are allowed
anyway, comma-separated: for receivers on the same host or network in development and tests,
e.g. `127.0.0.0/8,::1` or `10.20.0.0/16`.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit, urlunsplit

from flowdesk.core.errors import FlowdeskError

ALLOW_ENV = "FLOWDESK_WEBHOOK_ALLOWED_NETWORKS"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Sequence[str]]

#: Instance metadata services of the big clouds (most are link-local and refused anyway; listed
#: so the reason says what they are).
METADATA = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "100.100.100.200", "fd00:ec2::254")
)


class UnsafeUrl(FlowdeskError):
    """The URL may not be called from the server; the message says why."""

    code = "invalid-input"


def _resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def allowed_networks(text: str | None = None) -> tuple[IPNetwork, ...]:
    """Parse an allow-list (default: the environment variable); a bad entry is an error."""
    raw = os.environ.get(ALLOW_ENV, "") if text is None else text
    out: list[IPNetwork] = []
    for part in raw.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            out.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise UnsafeUrl(
                f"{ALLOW_ENV}: {part!r} is not an address or network",
                hint="use CIDR notation such as 127.0.0.0/8 or 10.0.0.0/16",
            ) from None
    return tuple(out)


def refusal(address: IPAddress) -> str | None:
    """Why the server must not connect to `address` (None: it is a public address)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address in METADATA:
        return "a cloud metadata address"
    for test, why in (
        ("is_loopback", "a loopback address"),
        ("is_link_local", "a link-local address"),
        ("is_multicast", "a multicast address"),
        ("is_unspecified", "the unspecified address"),
        ("is_private", "a private address"),
        ("is_reserved", "a reserved address"),
    ):
        if getattr(address, test):
            return why
    if not address.is_global:
        return "not a public address"
    return None


@dataclass(frozen=True, slots=True)
class Target:
    """A checked URL: where to connect and what to say the host is."""

    url: str  # the URL with the checked address in place of the host name
    host: str  # the Host header (the original host and port)
    server_name: str  # for TLS: SNI and the certificate check
    address: str


class Guard:
    """Checks webhook URLs against the rules above; `resolve` and `allow` are injectable."""

    def __init__(
        self,
        *,
        allow: Sequence[IPNetwork] | None = None,
        resolve: Resolver | None = None,
        subject: str = "webhook",
    ) -> None:
        self.allow = tuple(allowed_networks() if allow is None else allow)
        self.resolve = resolve or _resolve
        self.subject = subject  # what the messages call the caller (webhook, connector)

    def check(self, url: str) -> Target:
        """The address to connect to for `url` (before a delivery), or UnsafeUrl saying why
        not."""
        target = self._check(url, unresolved_ok=False)
        if target is None:  # pragma: no cover - _check raises instead when not unresolved_ok
            raise UnsafeUrl(f"the {self.subject} url {url!r} has no address")
        return target

    def admit(self, url: str) -> None:
        """The check when a subscription is created: as `check`, except that a host name that
        does not resolve (yet) is accepted, since delivery checks it again on every attempt."""
        self._check(url, unresolved_ok=True)

    def _check(self, url: str, *, unresolved_ok: bool) -> Target | None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UnsafeUrl(
                f"the {self.subject} url {url!r} is not an absolute http(s) URL",
                hint="for example https://crm.example.com/flowdesk-events",
            )
        if parts.username is not None or parts.password is not None:
            raise UnsafeUrl(
                f"the {self.subject} url may not carry a user name or password",
                hint="authenticate the receiver with the signature header instead",
            )
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise UnsafeUrl(f"the {self.subject} url {url!r} has an invalid port") from None
        host = parts.hostname
        try:
            literal: IPAddress | None = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        if literal is not None:
            candidates = [str(literal)]
        else:
            try:
                candidates = list(dict.fromkeys(self.resolve(host, port)))
            except (OSError, UnicodeError) as exc:
                if unresolved_ok:
                    return None
                raise UnsafeUrl(
                    f"the {self.subject} host {host!r} does not resolve ({exc})",
                    hint="use a host name that resolves to the receiver's public address",
                ) from None
            if not candidates:
                raise UnsafeUrl(f"the {self.subject} host {host!r} has no address")
        for text in candidates:
            address = ipaddress.ip_address(text.split("%", 1)[0])
            why = refusal(address)
            if why is not None and not any(address in net for net in self.allow):
                shown = host if literal is not None else f"{host} ({address})"
                raise UnsafeUrl(
                    f"the {self.subject} url {url!r} points at {why}: {shown}; "
                    f"{self.subject}s may only call public addresses",
                    hint=f"to allow a receiver on this network, list it in {ALLOW_ENV}",
                )
        chosen = candidates[0]
        return Target(
            url=_with_host(parts, chosen),
            host=parts.netloc.rsplit("@", 1)[-1],
            server_name=host,
            address=chosen,
        )


def _with_host(parts: SplitResult, address: str) -> str:
    host = f"[{address}]" if ":" in address else address
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
