import textwrap
from pathlib import Path

import pytest

from assay.core.errors import ConfigurationError, ValidationFailed
from assay.kinds._registry import get_kind, known_kinds
from assay.kinds.accuracy import AccuracyKind
from assay.kinds.agent_as_judge import AgentAsJudgeKind
from assay.kinds.performance import PerformanceKind
from assay.kinds.reliability import ReliabilityKind

BUILT_IN = {
    "accuracy": AccuracyKind,
    "agent_as_judge": AgentAsJudgeKind,
    "performance": PerformanceKind,
    "reliability": ReliabilityKind,
}


@pytest.mark.parametrize(("name", "cls"), BUILT_IN.items())
def test_built_in_kinds_are_found_by_name_and_cached(name, cls):
    kind = get_kind(name)

    assert type(kind) is cls
    assert kind.name == name
    assert get_kind(name) is kind


def test_unknown_kind_is_a_validation_error_on_kind_listing_the_known_ones():
    with pytest.raises(ValidationFailed) as caught:
        get_kind("accurracy")

    error = caught.value.errors[0]
    assert error["loc"] == ["kind"]
    assert "unknown kind 'accurracy'" in error["msg"]
    known = error["msg"].split("known kinds: ")[1].split(", ")
    assert set(BUILT_IN) <= set(known)
    assert known == sorted(known)


def test_names_are_matched_exactly():
    with pytest.raises(ValidationFailed):
        get_kind("Accuracy")


def install_plugin(root: Path, dist: str, entry_points: str, module: str, source: str) -> None:
    """A real (unpacked) distribution on sys.path, found by importlib.metadata."""
    info = root / f"{dist}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(textwrap.dedent(entry_points))
    (root / f"{module}.py").write_text(textwrap.dedent(source))


PLUGIN_SOURCE = """
    from assay.kinds.reliability import ReliabilityKind

    class EchoKind(ReliabilityKind):
        name = "acme/echo"

    def make():
        return EchoKind()

    not_a_kind = object
"""


def test_kind_from_an_entry_point_is_loaded_on_a_miss(tmp_path, monkeypatch):
    install_plugin(
        tmp_path,
        "acme_kinds",
        "[assay.kinds]\nacme/echo = acme_kinds_mod:make\nacme/bad = acme_kinds_mod:not_a_kind\n",
        "acme_kinds_mod",
        PLUGIN_SOURCE,
    )
    monkeypatch.syspath_prepend(str(tmp_path))

    assert {"acme/echo", "acme/bad", "accuracy"} <= set(known_kinds())
    kind = get_kind("acme/echo")
    assert kind.name == "acme/echo"
    assert get_kind("acme/echo") is kind
    with pytest.raises(ConfigurationError, match="did not give a Kind"):
        get_kind("acme/bad")


def test_two_entry_points_with_one_name_are_an_error_naming_both(tmp_path, monkeypatch):
    for dist, module in [("dup_one", "dup_one_mod"), ("dup_two", "dup_two_mod")]:
        install_plugin(
            tmp_path, dist, f"[assay.kinds]\nacme/dup = {module}:make\n", module, PLUGIN_SOURCE
        )
    monkeypatch.syspath_prepend(str(tmp_path))

    with pytest.raises(ConfigurationError, match="dup_one_mod:make and dup_two_mod:make"):
        get_kind("acme/dup")
