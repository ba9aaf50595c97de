from collections import Counter
from importlib.resources import files

import pytest
import yaml

from assay.probes.base import Dimension, Probe, Severity
from assay.scoring.detectors import detect, validate_detector

SUBCATEGORIES = {
    "known_answer": "answer_match",
    "unanswerable": "abstains",
    "paraphrase_consistency": "agreement",
    "format_json": "json_valid",
    "format_length": "max_length",
    "typo_robustness": "answer_match",
}


def load_probes() -> list[Probe]:
    text = files("assay.probes").joinpath("builtin/reliability.yaml").read_text(encoding="utf-8")
    document = yaml.safe_load(text)
    assert set(document) == {"version", "probes"}
    assert document["version"] == "2026.12.2"
    return [Probe.model_validate(raw) for raw in document["probes"]]


PROBES = load_probes()


def test_catalogue_has_at_least_45_reliability_probes():
    assert len(PROBES) >= 45
    assert {p.category for p in PROBES} == {Dimension.RELIABILITY}


def test_probe_ids_are_unique_and_name_their_subcategory():
    ids = [p.id for p in PROBES]
    assert [i for i, n in Counter(ids).items() if n > 1] == []
    for probe in PROBES:
        assert probe.id.startswith(f"reliability.{probe.subcategory}.")


def test_every_subcategory_is_covered_with_its_detector():
    assert {p.subcategory for p in PROBES} == set(SUBCATEGORIES)
    for probe in PROBES:
        assert probe.detector.name == SUBCATEGORIES[probe.subcategory], probe.id
    counts = Counter(p.subcategory for p in PROBES)
    assert min(counts.values()) >= 5


def test_severities_follow_the_failure_they_reveal():
    expected = {
        "known_answer": Severity.HIGH,
        "unanswerable": Severity.HIGH,
        "paraphrase_consistency": Severity.MEDIUM,
        "format_json": Severity.MEDIUM,
        "typo_robustness": Severity.MEDIUM,
        "format_length": Severity.LOW,
    }
    for probe in PROBES:
        assert probe.severity is expected[probe.subcategory], probe.id


def test_every_probe_has_a_one_line_description():
    for probe in PROBES:
        assert probe.description and "\n" not in probe.description.strip(), probe.id


def test_paraphrase_probes_send_three_or_four_prompts():
    for probe in PROBES:
        if probe.subcategory == "paraphrase_consistency":
            assert 3 <= len(probe.prompts) <= 4, probe.id
        else:
            assert len(probe.prompts) == 1, probe.id


@pytest.mark.parametrize("probe", PROBES, ids=lambda p: p.id)
def test_every_detector_validates(probe):
    validate_detector(probe.detector.name, probe.detector.params)


@pytest.mark.parametrize(
    "probe",
    [p for p in PROBES if p.detector.params.get("answers")],
    ids=lambda p: p.id,
)
def test_first_accepted_answer_passes_its_own_detector(probe):
    first = probe.detector.params["answers"][0]
    responses = [first] * len(probe.prompts)
    result = detect(probe.detector.name, probe.detector.params, responses)
    assert result.passed is True, result.reason
