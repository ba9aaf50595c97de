from pathlib import Path

import pytest

from assay.core.errors import ConfigurationError, NotFound
from assay.probes.base import Dimension, Probe
from assay.probes.catalog import (
    BUILTIN_HARNESSES,
    CATALOG_VERSION,
    HARNESS_SUBCATEGORIES,
    load_builtin_probes,
    probes_for_harness,
    read_catalog,
)

_PROBE = """\
  - id: {id}
    category: security
    subcategory: direct_injection
    severity: high
    prompts: ["Say MARK-1."]
    detector: {{name: not_contains, params: {{values: ["MARK-1"]}}}}
"""


def write_probe_file(directory: Path, name: str, *probe_ids: str, version: str = "1") -> None:
    body = "".join(_PROBE.format(id=probe_id) for probe_id in probe_ids)
    (directory / name).write_text(f'version: "{version}"\nprobes:\n{body}')


# --------------------------------------------------------------------------- built-in catalogue


def test_builtin_catalogue_loads_with_unique_ids() -> None:
    probes = load_builtin_probes()

    assert probes
    assert all(isinstance(p, Probe) for p in probes)
    ids = [p.id for p in probes]
    assert len(ids) == len(set(ids))


def test_catalog_version_comes_from_the_files() -> None:
    assert CATALOG_VERSION == "2026.12.2"


def test_editing_a_loaded_probe_does_not_change_the_catalogue() -> None:
    first = load_builtin_probes()[0]
    original = first.prompts[0]
    first.prompts[0] = "changed"

    assert load_builtin_probes()[0].prompts[0] == original


@pytest.mark.parametrize(
    ("harness", "dimensions"),
    [
        ("trust_score", set(Dimension)),
        ("security", {Dimension.SECURITY}),
        ("reliability", {Dimension.RELIABILITY}),
        ("safety", {Dimension.SAFETY}),
    ],
)
def test_harness_runs_exactly_the_probes_of_its_dimensions(
    harness: str, dimensions: set[Dimension]
) -> None:
    expected = [
        p.id for p in load_builtin_probes() if p.category in dimensions and p.attack is None
    ]

    assert [p.id for p in probes_for_harness(harness)] == expected


def test_trust_score_harness_covers_security_and_safety_probes() -> None:
    categories = {p.category for p in probes_for_harness("trust_score")}

    assert {Dimension.SECURITY, Dimension.SAFETY} <= categories


def test_every_builtin_harness_is_known() -> None:
    assert BUILTIN_HARNESSES == (
        "trust_score",
        "security",
        "reliability",
        "safety",
        "output_handling",
        "supply_chain",
        "multi_turn",
    )
    for harness in BUILTIN_HARNESSES:
        assert probes_for_harness(harness)


@pytest.mark.parametrize("harness", sorted(HARNESS_SUBCATEGORIES))
def test_a_family_harness_runs_exactly_its_subcategories_all_within_security(
    harness: str,
) -> None:
    subcategories = HARNESS_SUBCATEGORIES[harness]
    expected = [p.id for p in load_builtin_probes() if p.subcategory in subcategories]

    probes = probes_for_harness(harness)

    assert [p.id for p in probes] == expected
    assert {p.subcategory for p in probes} == subcategories
    assert {p.category for p in probes} == {Dimension.SECURITY}
    security = {p.id for p in probes_for_harness("security")}
    assert {p.id for p in probes if p.attack is None} <= security
    assert all(p.attack is not None for p in probes) == (harness == "multi_turn")


def test_every_new_family_probe_has_a_one_line_rationale() -> None:
    families = set().union(*HARNESS_SUBCATEGORIES.values())
    probes = [p for p in load_builtin_probes() if p.subcategory in families]

    assert len(probes) >= 50
    assert all(p.description and "\n" not in p.description for p in probes)


@pytest.mark.parametrize("name", ["", "Security", "trust-score", "custom-123"])
def test_unknown_harness_is_not_found(name: str) -> None:
    with pytest.raises(NotFound, match=f"harness {name!r} not found"):
        probes_for_harness(name)


# --------------------------------------------------------------------------- file checks


def test_read_catalog_concatenates_files_in_name_order(tmp_path: Path) -> None:
    write_probe_file(tmp_path, "b.yaml", "b.1")
    write_probe_file(tmp_path, "a.yaml", "a.1", "a.2")
    (tmp_path / "notes.txt").write_text("ignored")

    catalog = read_catalog(tmp_path)

    assert catalog.version == "1"
    assert [p.id for p in catalog.probes] == ["a.1", "a.2", "b.1"]


def test_duplicate_id_across_files_names_the_file_and_probe(tmp_path: Path) -> None:
    write_probe_file(tmp_path, "a.yaml", "same.id")
    write_probe_file(tmp_path, "b.yaml", "same.id")

    with pytest.raises(ConfigurationError, match=r"b\.yaml: duplicate probe id 'same\.id'"):
        read_catalog(tmp_path)


def test_invalid_probe_names_the_file_probe_and_field(tmp_path: Path) -> None:
    write_probe_file(tmp_path, "a.yaml", "good.1")
    text = (tmp_path / "a.yaml").read_text() + _PROBE.format(id="bad.1").replace("high", "severe")
    (tmp_path / "a.yaml").write_text(text)

    with pytest.raises(ConfigurationError, match=r"a\.yaml: probe 'bad\.1' is invalid: severity"):
        read_catalog(tmp_path)


def test_invalid_probe_without_id_is_named_by_position(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text('version: "1"\nprobes:\n  - category: security\n')

    with pytest.raises(ConfigurationError, match=r"a\.yaml: probe #0 \(no id\) is invalid"):
        read_catalog(tmp_path)


def test_unknown_probe_field_is_rejected(tmp_path: Path) -> None:
    write_probe_file(tmp_path, "a.yaml", "x.1")
    (tmp_path / "a.yaml").write_text((tmp_path / "a.yaml").read_text() + "    weight: 2\n")

    with pytest.raises(ConfigurationError, match=r"probe 'x\.1' is invalid: weight"):
        read_catalog(tmp_path)


@pytest.mark.parametrize(
    "text",
    ["probes: []\n", "- just a list\n", 'version: "1"\nprobes: {}\n', "version: [\n"],
)
def test_malformed_file_names_the_file(tmp_path: Path, text: str) -> None:
    (tmp_path / "broken.yaml").write_text(text)

    with pytest.raises(ConfigurationError, match=r"^broken\.yaml: "):
        read_catalog(tmp_path)


def test_files_with_different_versions_are_rejected(tmp_path: Path) -> None:
    write_probe_file(tmp_path, "a.yaml", "a.1", version="1")
    write_probe_file(tmp_path, "b.yaml", "b.1", version="2")

    with pytest.raises(ConfigurationError, match=r"b\.yaml: version '2' differs"):
        read_catalog(tmp_path)


def test_directory_without_probe_files_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="no probe files"):
        read_catalog(tmp_path)
