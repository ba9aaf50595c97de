from __future__ import annotations

import pytest

from assay.core.errors import ProviderRateLimited, ProviderRejected, ProviderUnavailable
from assay.providers._http import error_from_status, redact, retry_after_seconds


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"retry-after": "2"}, 2.0),
        ({"retry-after": "1.5"}, 1.5),
        ({"retry-after-ms": "250", "retry-after": "9"}, 0.25),
        ({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, None),
        ({"retry-after": "-3"}, 0.0),
        ({}, None),
    ],
)
def test_retry_after_prefers_milliseconds_and_ignores_what_it_cannot_read(
    headers: dict[str, str], seconds: float | None
):
    assert retry_after_seconds(headers) == seconds


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (429, ProviderRateLimited),
        (500, ProviderUnavailable),
        (529, ProviderUnavailable),
        (400, ProviderRejected),
        (408, ProviderRejected),
    ],
)
def test_statuses_map_to_the_contracts_error_classes(status: int, error: type[Exception]):
    mapped = error_from_status(status, "boom", retry_after=None)

    assert type(mapped) is error
    assert mapped.status_code == status


def test_redact_removes_every_copy_of_the_secret():
    assert redact("key sk-1 and again sk-1", "sk-1") == "key *** and again ***"
