"""Broker settings are checked at start: a wrong scheme or a time limit Redis would undercut."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from assay.settings import Settings


def test_a_broker_url_of_another_scheme_is_refused_naming_the_field():
    with pytest.raises(ValidationError) as raised:
        Settings(broker_url="http://127.0.0.1:6379")
    assert "broker_url" in str(raised.value)
    assert Settings(broker_url="amqp://guest:guest@127.0.0.1:5672//").broker_url is not None


def test_a_task_time_limit_not_below_the_visibility_timeout_is_refused():
    with pytest.raises(ValidationError) as raised:
        Settings(broker_task_time_limit=3600, broker_visibility_timeout=3600)
    assert "broker_task_time_limit" in str(raised.value)
    assert Settings(broker_task_time_limit=60, broker_visibility_timeout=61)
