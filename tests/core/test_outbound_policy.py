"""The outbound policy refuses every spelling of a non-public address unless allowed."""

from __future__ import annotations

import pytest

from assay.core.errors import OutboundRefused, ValidationFailed
from assay.core.outbound import OutboundPolicy, literal_address

DENY = OutboundPolicy.parse(None)
REFUSED = {
    "http://127.0.0.1:8000/": "loopback",
    "http://localhost.localdomain@127.0.0.1/": "credentials",
    "http://169.254.169.254/latest/meta-data/": "link-local",
    "http://[::ffff:127.0.0.1]/": "loopback",
    "http://[::1]/": "loopback",
    "http://[fe80::1]/": "link-local",
    "http://2130706433/": "loopback",
    "http://0177.0.0.1/": "loopback",
    "http://0x7f.1/": "loopback",
    "http://10.0.0.8/": "private",
    "http://100.64.0.1/": "not publicly routable",
    "http://0.0.0.0/": "unspecified",
    "http://224.0.0.1/": "multicast",
    "http://metadata.google.internal/computeMetadata/v1/": "metadata",
    "file:///etc/passwd": "scheme 'file'",
    "gopher://example.com/": "scheme 'gopher'",
    "http://user:pw@example.com/": "credentials",
}


@pytest.mark.parametrize(("url", "reason"), REFUSED.items())
def test_non_public_urls_are_refused_with_the_reason(url: str, reason: str):
    with pytest.raises(OutboundRefused, match=reason):
        DENY.check_url(url)


def test_public_urls_and_names_pass_before_resolution():
    for url in ("https://api.openai.com/v1", "http://8.8.8.8/", "http://localhost:9/"):
        DENY.check_url(url)


def test_the_field_is_named_in_the_message():
    with pytest.raises(ValidationFailed) as caught:
        DENY.check_field(("webhook_url",), "http://169.254.169.254/")
    assert caught.value.message == (
        "webhook_url: address 169.254.169.254 is not allowed (link-local); see ASSAY_OUTBOUND_ALLOW"
    )
    assert caught.value.errors[0]["loc"] == ["webhook_url"]


def test_the_allowlist_opens_exactly_its_networks():
    policy = OutboundPolicy.parse("127.0.0.0/8, 10.1.0.0/16")
    policy.check_url("http://127.0.0.2/")
    policy.check_url("http://[::ffff:127.0.0.1]/")
    policy.check_url("http://10.1.2.3/")
    with pytest.raises(OutboundRefused, match="private"):
        policy.check_url("http://10.2.0.1/")
    with pytest.raises(OutboundRefused, match="link-local"):
        policy.check_url("http://169.254.169.254/")


def test_a_star_allows_everything_but_other_schemes():
    policy = OutboundPolicy.parse("*")
    policy.check_url("http://169.254.169.254/")
    policy.check_url("http://metadata.google.internal/")
    with pytest.raises(OutboundRefused, match="scheme"):
        policy.check_url("file:///etc/passwd")


def test_a_bad_allowlist_entry_is_an_error():
    with pytest.raises(ValueError, match="not-a-network"):
        OutboundPolicy.parse("127.0.0.0/8,not-a-network")


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("2130706433", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("0xa9fea9fe", "169.254.169.254"),
        ("example.com", None),
        ("1.2.3.4.5", None),
    ],
)
def test_numeric_spellings_read_as_a_resolver_reads_them(host: str, address: str | None):
    found = literal_address(host)
    assert (str(found) if found else None) == address
