"""Which addresses Assay may connect to on a tenant's behalf: the SSRF policy, without I/O.

A tenant gives Assay URLs (webhooks, agent endpoints, model base URLs); the server then
connects to them from inside the operator's network. By default only public unicast
addresses are allowed: no loopback, private, shared (CGNAT), link-local, multicast,
unspecified or reserved address, in any spelling a resolver would accept (IPv6, IPv4-mapped
or NAT64/6to4-embedded IPv4, and the BSD numeric forms ``2130706433``, ``0177.0.0.1``,
``0x7f.1``), and no cloud metadata host name. The operator widens this with
``ASSAY_OUTBOUND_ALLOW``: comma-separated networks (``127.0.0.0/8,10.1.0.0/16``) or ``*``.

This module only decides. ``check_url`` runs when a URL is saved (no DNS: a name is checked
again, after resolution, when it is used); ``check_address`` runs on every address a name
resolves to, at connect time, in ``assay.http_guard``.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from assay.core.errors import OutboundRefused, ValidationFailed

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

SETTING = "ASSAY_OUTBOUND_ALLOW"
SCHEMES = frozenset({"http", "https"})
#: Names of cloud instance-metadata services; refused whatever they resolve to.
METADATA_HOSTS = frozenset(
    {"metadata.google.internal", "metadata.goog", "metadata", "instance-data"}
)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
#: One part of a BSD numeric IPv4 address: hex, octal (leading 0) or decimal.
_NUMERIC_PART = re.compile(r"^(0x[0-9a-f]*|0[0-7]*|[1-9][0-9]*)$")


@dataclass(frozen=True)
class OutboundPolicy:
    """The networks the operator allowed beyond the public internet, or everything."""

    allowed: tuple[IPNetwork, ...] = ()
    allow_all: bool = False

    @classmethod
    def parse(cls, text: str | None) -> OutboundPolicy:
        """``ASSAY_OUTBOUND_ALLOW``'s value; empty or None allows only public addresses.

        Raises:
            ValueError: an entry is neither ``*`` nor a network (``10.0.0.0/8``, ``::1``).
        """
        entries = [e.strip() for e in (text or "").split(",") if e.strip()]
        if "*" in entries:
            return cls(allow_all=True)
        networks: list[IPNetwork] = []
        for entry in entries:
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                raise ValueError(
                    f"{entry!r} is not a network such as 10.1.0.0/16, nor '*'"
                ) from None
        return cls(allowed=tuple(networks))

    def check_url(self, url: str) -> None:
        """Refuse a URL that may never be used, before any DNS lookup.

        Raises:
            OutboundRefused: not http(s), credentials in it, no host, a metadata host name,
                or a literal address this policy does not allow.
        """
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 - raises ValueError on a bad port
        except ValueError as exc:
            raise OutboundRefused(f"is not a valid URL: {exc}") from None
        if parts.scheme.lower() not in SCHEMES:
            shown = parts.scheme or "none"
            raise OutboundRefused(f"scheme {shown!r} is not allowed: use http:// or https://")
        if parts.username is not None or parts.password is not None:
            raise OutboundRefused(
                "credentials in the URL are not allowed: give them as secrets or headers"
            )
        if not parts.hostname:
            raise OutboundRefused("has no host")
        self.check_host(parts.hostname)

    def check_field(self, loc: tuple[str | int, ...], url: str | None) -> None:
        """``check_url`` for a URL a tenant saves; None (not given) passes.

        Raises:
            ValidationFailed: naming ``loc``, e.g. ``webhook_url: address 169.254.169.254 is
                not allowed (link-local); see ASSAY_OUTBOUND_ALLOW``.
        """
        if url is None:
            return
        try:
            self.check_url(url)
        except OutboundRefused as exc:
            raise ValidationFailed.for_field(loc, exc.message) from None

    def check_host(self, host: str) -> IPAddress | None:
        """Refuse a literal address or metadata name; returns the address a literal means.

        Raises:
            OutboundRefused: the host is not allowed.
        """
        address = literal_address(host)
        if address is not None:
            self.check_address(address)
            return address
        name = host.lower().rstrip(".")
        if not self.allow_all and name in METADATA_HOSTS:
            raise OutboundRefused(f"host {name} is not allowed (metadata); see {SETTING}")
        return None

    def check_address(self, address: IPAddress, host: str | None = None) -> None:
        """Refuse an address outside the public internet and the allowed networks.

        ``host`` is the name that resolved to it, for the message.

        Raises:
            OutboundRefused: naming the address and why (``loopback``, ``link-local``, ...).
        """
        reason = self.refusal(address)
        if reason is None:
            return
        via = f"host {host} resolves to " if host else ""
        raise OutboundRefused(f"{via}address {address} is not allowed ({reason}); see {SETTING}")

    def refusal(self, address: IPAddress) -> str | None:
        """Why ``address`` is refused, or None when it is allowed."""
        if self.allow_all or self._allowed(address):
            return None
        embedded = embedded_ipv4(address)
        if embedded is not None:
            return self.refusal(embedded)
        return special_use(address)

    def _allowed(self, address: IPAddress) -> bool:
        candidates = [address]
        embedded = embedded_ipv4(address)
        if embedded is not None:
            candidates.append(embedded)
        return any(a.version == n.version and a in n for a in candidates for n in self.allowed)


def special_use(address: IPAddress) -> str | None:
    """The kind of non-public address this is, or None for a public unicast address."""
    checks = (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
        ("not publicly routable", not address.is_global),
    )
    return next((reason for reason, hit in checks if hit), None)


def embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, NAT64, 6to4), if any."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour


def literal_address(host: str) -> IPAddress | None:
    """The address a host literal means to a resolver, or None for a name.

    Besides the standard forms this reads what ``inet_aton`` reads: one to four parts, each
    decimal, octal or hex, the last filling the remaining bytes (``127.1``, ``2130706433``).
    """
    text = host.strip("[]").rstrip(".").lower()
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        pass
    parts = text.split(".")
    if not 1 <= len(parts) <= 4 or not all(_NUMERIC_PART.match(p) for p in parts):
        return None
    *head, last = [_part_value(p) for p in parts]
    if any(v > 255 for v in head) or last >= 256 ** (4 - len(head)):
        return None
    number = 0
    for value in head:
        number = number << 8 | value
    return ipaddress.IPv4Address(number << 8 * (4 - len(head)) | last)


def _part_value(part: str) -> int:
    if part.startswith("0x"):
        return int(part[2:] or "0", 16)
    return int(part, 8) if part.startswith("0") else int(part)
