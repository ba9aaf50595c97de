from __future__ import annotations

from pathlib import Path

import pytest

from assay.core.errors import ConfigurationError, ValidationFailed
from assay.core.spec import TargetSpec
from assay.providers.base import ModelProvider
from assay.targets._registry import create_target, known_target_kinds, validate_agent_config
from assay.targets.http import HTTPTarget
from assay.targets.python import PythonTarget
from tests.fakes.http_agent import HTTPAgent


def no_provider(*_args) -> ModelProvider:
    raise AssertionError("this kind must not ask for a provider")


def error_locs(exc: ValidationFailed) -> list[list[str | int]]:
    return [e["loc"] for e in exc.errors]


def test_known_target_kinds_are_the_built_ins_and_model():
    assert {"http", "model", "openai-chat", "python"} <= set(known_target_kinds())


def test_unknown_kind_names_the_field_and_lists_known_kinds():
    with pytest.raises(ValidationFailed) as caught:
        validate_agent_config("grpc", {}, {})

    assert error_locs(caught.value) == [["kind"]]
    for name in ("http", "openai-chat", "python"):
        assert name in caught.value.message


def test_model_is_not_an_agent_kind():
    with pytest.raises(ValidationFailed, match="unknown agent kind 'model'"):
        validate_agent_config("model", {}, {})


def test_http_config_is_filled_with_defaults_and_secrets_are_kept_apart():
    config, secrets = validate_agent_config(
        "http",
        {"url": "http://agent.local/run", "output_path": "data.text"},
        {"headers": {"Authorization": "Bearer abc"}},
    )

    assert config["url"] == "http://agent.local/run"
    assert config["output_path"] == "data.text"
    assert config["method"] == "POST"
    assert config["timeout"] == 120.0
    assert config["request_template"] == {"input": "{{input}}", "session_id": "{{session_id}}"}
    assert secrets == {"headers": {"Authorization": "Bearer abc"}}


def test_secrets_not_given_are_not_stored():
    _, secrets = validate_agent_config("openai-chat", {"base_url": "http://x/v1", "model": "m"}, {})

    assert secrets == {}


def test_http_config_errors_name_each_field():
    with pytest.raises(ValidationFailed) as caught:
        validate_agent_config("http", {"url": "ftp://agent.local", "timeout": 0, "bogus": 1}, {})

    assert sorted(error_locs(caught.value)) == [
        ["config", "bogus"],
        ["config", "timeout"],
        ["config", "url"],
    ]
    assert "config.timeout" in caught.value.message


def test_openai_chat_requires_base_url_and_model():
    with pytest.raises(ValidationFailed) as caught:
        validate_agent_config("openai-chat", {}, {})

    assert sorted(error_locs(caught.value)) == [["config", "base_url"], ["config", "model"]]


def test_unknown_secret_is_rejected_without_echoing_its_value():
    with pytest.raises(ValidationFailed) as caught:
        validate_agent_config(
            "openai-chat", {"base_url": "http://x/v1", "model": "m"}, {"token": "sk-very-secret"}
        )

    assert error_locs(caught.value) == [["secrets", "token"]]
    assert "sk-very-secret" not in caught.value.message
    assert "sk-very-secret" not in str(caught.value.errors)


def test_python_callable_that_does_not_import_names_config_callable():
    with pytest.raises(ValidationFailed) as caught:
        validate_agent_config("python", {"callable": "tests.targets.agents:missing"}, {})

    assert error_locs(caught.value) == [["config", "callable"]]
    assert "tests.targets.agents:missing" in caught.value.message


def test_python_callable_that_imports_is_accepted():
    config, secrets = validate_agent_config("python", {"callable": "tests.targets.agents:echo"}, {})

    assert (config, secrets) == ({"callable": "tests.targets.agents:echo"}, {})


async def test_create_target_builds_an_http_target_that_sends_its_secret_headers(
    http_agent: HTTPAgent,
):
    spec = TargetSpec(kind="http", config={"url": f"{http_agent.url}/agent"})
    target = create_target(spec, {"headers": {"Authorization": "Bearer abc"}}, no_provider)
    try:
        assert isinstance(target, HTTPTarget)
        response = await target.invoke("hi", session_id="s")
    finally:
        await target.aclose()

    assert response.output == "echo: hi"
    assert http_agent.requests[0].headers["authorization"] == "Bearer abc"


async def test_create_target_builds_a_python_target():
    spec = TargetSpec(kind="python", config={"callable": "tests.targets.agents:echo"})

    target = create_target(spec, {}, no_provider)

    assert isinstance(target, PythonTarget)
    assert (await target.invoke("x", session_id="s")).output == "echo: x"


def test_create_target_with_a_config_that_no_longer_validates_is_a_configuration_error():
    spec = TargetSpec(kind="python", config={"callable": "tests.targets.gone:agent"})

    with pytest.raises(ConfigurationError, match="config.callable"):
        create_target(spec, {}, no_provider)


def test_create_target_for_an_unknown_kind_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match="unknown agent kind 'grpc'"):
        create_target(TargetSpec(kind="grpc"), {}, no_provider)


def test_model_kind_without_a_model_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match="target.model is required"):
        create_target(TargetSpec(kind="model"), {}, no_provider)


def install_entry_points(monkeypatch: pytest.MonkeyPatch, root: Path, lines: str) -> None:
    """A real (metadata-only) distribution on sys.path, as ``pip install`` would leave it."""
    dist = root / "assay_test_targets-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: assay-test-targets\nVersion: 0.1\n"
    )
    (dist / "entry_points.txt").write_text(f"[assay.targets]\n{lines}\n")
    monkeypatch.syspath_prepend(str(root))


async def test_a_kind_from_an_entry_point_is_validated_and_built(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    install_entry_points(monkeypatch, tmp_path, "shout = tests.targets.plugin:SHOUT")

    assert "shout" in known_target_kinds()
    assert validate_agent_config("shout", {}, {}) == ({"loud": True}, {})
    with pytest.raises(ValidationFailed) as caught:
        validate_agent_config("shout", {"quiet": True}, {})
    assert error_locs(caught.value) == [["config", "quiet"]]
    target = create_target(TargetSpec(kind="shout"), {}, no_provider)
    assert (await target.invoke("hey", session_id="s")).output == "HEY"


def test_an_entry_point_that_is_not_an_agent_kind_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    install_entry_points(monkeypatch, tmp_path, "stringly = tests.targets.plugin:NOT_A_KIND")

    with pytest.raises(ConfigurationError, match="'stringly'.*not an AgentKind"):
        validate_agent_config("stringly", {}, {})
