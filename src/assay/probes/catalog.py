"""The built-in probe catalogue: the YAML files in ``probes/builtin/`` and the harnesses over them.

Each file is a mapping ``{version: str, probes: [Probe, ...]}``. Invariants checked on load,
each breach raising ``ConfigurationError`` that names the file (and the probe, where there is
one): every file is valid YAML of that shape, every probe validates as ``Probe``, probe ids
are unique across all files, and all files carry the same ``version``, which becomes
``CATALOG_VERSION``.

The files ship inside the package and are read with ``importlib.resources``, so the catalogue
works from a wheel as well as from a checkout. They are read once per process: the catalogue is
loaded when this module is imported (a broken built-in file is a packaging bug and fails
startup) and cached afterwards.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Any, NamedTuple

import yaml
from pydantic import ValidationError

from assay.core.errors import ConfigurationError, NotFound
from assay.core.yamlio import load_yaml
from assay.probes.base import Dimension, Probe

#: Harness names an evaluation may ask for; ``trust_score`` runs every built-in single-turn
#: probe. The dimension harnesses run one dimension's single-turn probes; the family harnesses
#: run a few subcategories (security probes, so the single-turn ones are also part of
#: ``security``). ``multi_turn`` runs the attack probes, which need an attacker and several
#: turns each, so no dimension harness includes them.
BUILTIN_HARNESSES: tuple[str, ...] = (
    "trust_score",
    "security",
    "reliability",
    "safety",
    "output_handling",
    "supply_chain",
    "multi_turn",
)

_HARNESS_DIMENSIONS: dict[str, frozenset[Dimension]] = {
    "trust_score": frozenset(Dimension),
    "security": frozenset({Dimension.SECURITY}),
    "reliability": frozenset({Dimension.RELIABILITY}),
    "safety": frozenset({Dimension.SAFETY}),
}

#: Family harnesses: the subcategories each runs.
HARNESS_SUBCATEGORIES: dict[str, frozenset[str]] = {
    "output_handling": frozenset(
        {
            "markdown_exfiltration",
            "html_injection",
            "ansi_escape",
            "template_injection",
            "sql_passthrough",
        }
    ),
    "supply_chain": frozenset({"package_hallucination_pypi", "package_hallucination_npm"}),
    "multi_turn": frozenset(
        {"multiturn_crescendo", "multiturn_foot_in_the_door", "multiturn_tap", "multiturn_goat"}
    ),
}


class Catalog(NamedTuple):
    """The probes of a directory of probe files and the version they share."""

    version: str
    probes: tuple[Probe, ...]


def read_catalog(directory: Traversable) -> Catalog:
    """Read and validate every ``*.yaml`` file directly inside ``directory``, in name order.

    Raises:
        ConfigurationError: a file is unreadable or not a ``{version, probes}`` mapping, a probe
            is invalid, a probe id repeats, the files disagree on ``version``, or there are no
            files at all.
    """
    paths = sorted(
        (p for p in directory.iterdir() if p.is_file() and p.name.endswith(".yaml")),
        key=lambda p: p.name,
    )
    if not paths:
        raise ConfigurationError(f"no probe files (*.yaml) found in {directory}")
    contents = [(path, *_read_file(path)) for path in paths]
    version = contents[0][1]
    probes: list[Probe] = []
    seen: dict[str, str] = {}
    for path, file_version, raw_probes in contents:
        if file_version != version:
            raise ConfigurationError(
                f"{path.name}: version {file_version!r} differs from {version!r} in {paths[0].name}"
            )
        for index, raw in enumerate(raw_probes):
            probe = _validate_probe(path.name, index, raw)
            if probe.id in seen:
                raise ConfigurationError(
                    f"{path.name}: duplicate probe id {probe.id!r} (first defined in {seen[probe.id]})"
                )
            seen[probe.id] = path.name
            probes.append(probe)
    return Catalog(version=version, probes=tuple(probes))


def _read_file(path: Traversable) -> tuple[str, list[Any]]:
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigurationError(f"{path.name}: cannot read probe file: {exc}") from exc
    if not isinstance(data, dict) or set(data) != {"version", "probes"}:
        raise ConfigurationError(
            f"{path.name}: must be a mapping with exactly 'version' and 'probes'"
        )
    version, raw_probes = data["version"], data["probes"]
    if not isinstance(version, str) or not version:
        raise ConfigurationError(f"{path.name}: version must be a non-empty string")
    if not isinstance(raw_probes, list):
        raise ConfigurationError(f"{path.name}: probes must be a list")
    return version, raw_probes


def _validate_probe(file_name: str, index: int, raw: Any) -> Probe:
    try:
        return Probe.model_validate(raw)
    except ValidationError as exc:
        probe_id = raw.get("id") if isinstance(raw, dict) else None
        name = repr(probe_id) if isinstance(probe_id, str) else f"#{index} (no id)"
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '<probe>'}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigurationError(f"{file_name}: probe {name} is invalid: {problems}") from exc


@cache
def _builtin_catalog() -> Catalog:
    return read_catalog(files("assay.probes").joinpath("builtin"))


def load_builtin_probes() -> list[Probe]:
    """Every built-in probe, in file-name then file order.

    The catalogue is parsed once per process; each call returns copies, so a caller that edits
    a probe (for instance while building an evaluation spec) cannot change what others see.

    Raises:
        ConfigurationError: the built-in files break an invariant (see the module docstring).
    """
    return [probe.model_copy(deep=True) for probe in _builtin_catalog().probes]


def probes_for_harness(name: str) -> list[Probe]:
    """The built-in probes a harness runs: a dimension's, a family's, or all of them.

    Raises:
        NotFound: ``name`` is not one of ``BUILTIN_HARNESSES``.
    """
    subcategories = HARNESS_SUBCATEGORIES.get(name)
    if subcategories is not None:
        return [probe for probe in load_builtin_probes() if probe.subcategory in subcategories]
    dimensions = _HARNESS_DIMENSIONS.get(name)
    if dimensions is None:
        raise NotFound(f"harness {name!r} not found")
    return [
        probe
        for probe in load_builtin_probes()
        if probe.category in dimensions and probe.attack is None
    ]


CATALOG_VERSION: str = _builtin_catalog().version
"""The ``version`` shared by every built-in probe file, recorded with results."""
