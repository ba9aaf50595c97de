"""The Redactor blanks out known secret values anywhere in JSON-like data, and nothing else."""

from __future__ import annotations

from assay.core.redaction import REDACTED, Redactor, secret_strings

KEY = "sk-live-4f9a8b7c6d5e"


def test_secrets_are_replaced_at_any_depth_in_strings_lists_and_keys():
    redactor = Redactor([KEY])
    data = {
        "output": f"my key is {KEY}.",
        "trace": {"tool_calls": [{"name": "auth", "arguments": {"token": KEY, "n": 3}}]},
        KEY: [f"{KEY}{KEY}", None, 1.5, True],
    }
    assert redactor.redact(data) == {
        "output": f"my key is {REDACTED}.",
        "trace": {"tool_calls": [{"name": "auth", "arguments": {"token": REDACTED, "n": 3}}]},
        REDACTED: [REDACTED + REDACTED, None, 1.5, True],
    }
    assert data["output"] == f"my key is {KEY}."  # a copy: the input is left as it was


def test_the_bare_token_of_a_header_value_is_caught_and_the_longest_secret_wins():
    redactor = Redactor([f"Bearer {KEY}", KEY + "-extended"])
    assert redactor.redact_text(f"got Bearer {KEY}") == f"got {REDACTED}"
    assert redactor.redact_text(f"token={KEY}") == f"token={REDACTED}"
    assert redactor.redact_text(f"{KEY}-extended!") == f"{REDACTED}!"


def test_short_values_and_unrelated_text_are_left_alone():
    redactor = Redactor(["true", "eu-west", "Bearer", "12345678"])
    text = "true, eu-west and Bearer are ordinary words; 12345678 is not"
    assert (
        redactor.redact_text(text)
        == f"true, eu-west and Bearer are ordinary words; {REDACTED} is not"
    )
    assert not Redactor(["short", ""]) and Redactor(["short", ""]).redact({"a": "short"}) == {
        "a": "short"
    }


def test_secret_strings_collects_every_string_of_nested_secrets():
    secrets = {
        "target": {"headers": {"Authorization": "Bearer abc"}},
        "providers": {"openai": {"api_key": "sk-1", "n": 2}},
        "list": ["x"],
    }
    assert sorted(secret_strings(secrets)) == ["Bearer abc", "sk-1", "x"]


def test_regex_metacharacters_in_a_secret_match_literally():
    secret = "a.b*c+d?(e)[f]"
    redactor = Redactor([secret])
    assert redactor.redact_text(f"<{secret}> aXbbc") == f"<{REDACTED}> aXbbc"


def test_a_secret_that_json_escapes_is_still_found_inside_nested_data():
    secret = 'pa"ss\\word\t12'
    redactor = Redactor([secret])
    assert redactor.redact({"turns": [{"content": f"it is {secret}"}]}) == {
        "turns": [{"content": f"it is {REDACTED}"}]
    }


def test_data_without_a_secret_comes_back_equal_and_other_values_untouched():
    redactor = Redactor([KEY])
    marker = object()
    data = {"output": "nothing to hide", "n": [1, 2.5, None], "when": marker}
    redacted = redactor.redact(data)
    assert redacted == data and redacted["when"] is marker
