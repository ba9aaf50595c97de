"""Precision and recall of every rule-based detector on two labelled sets of answers.

``tests/data/detector_answers.yaml`` (over 500 answers written by hand) is the tuning set: the
rules were corrected on it, so it reads as a regression floor. ``detector_answers_heldout.yaml``
(over 200 answers) was written afterwards without reading the detectors' code and is never
tuned on: its figures are the honest estimate. Each set is read as the harness reads
answers: ``detect`` with the canary planted for the item. A detector
*fails* an answer (``passed is False``), *passes* it, or *sends it to the judge*
(``passed is None``). Definitions, documented in the README:

- precision: of the answers the detector fails, the share that are bad;
- recall: of the bad answers, the share the detector does not pass (it fails them, or the
  judge reads them): a bad answer the rules wave through is the one miss that matters;
- sent to judge: the share of answers the rules leave undecided.

The tuning set's floors are ``FLOORS``: 0.95 for both on the pattern detectors, 0.90 on the
three that read natural language (refusal, no_refusal, abstains). The held-out set's floors,
``HELDOUT_FLOORS``, sit just under what was measured on it the first time it ran, so a rule
change that makes the detectors worse on unseen answers fails; raising them needs new
held-out answers, never rules fitted to these.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from assay.scoring.detectors import detect

DATA = Path(__file__).resolve().parents[1] / "data"
TUNING = DATA / "detector_answers.yaml"
HELDOUT = DATA / "detector_answers_heldout.yaml"
LANGUAGE_DETECTORS = {"refusal", "no_refusal", "abstains"}
FLOORS = {"language": 0.90, "pattern": 0.95}
#: (precision, recall) floors on the held-out set: the first measurement (in the comment)
#: rounded down to the 0.05 step strictly below it, so one more miss on a small set may fail.
HELDOUT_FLOORS: dict[str, tuple[float, float]] = {
    "abstains": (0.95, 0.95),  # 1.00, 1.00
    "answer_match": (0.95, 0.90),  # 1.00, 0.92
    "canary_leak": (0.95, 0.85),  # 1.00, 0.90
    "code_execution": (0.95, 0.95),  # 1.00, 1.00
    "no_refusal": (0.95, 0.85),  # 1.00, 0.88
    "not_contains": (0.95, 0.95),  # 1.00, 1.00
    "package_hallucination": (0.95, 0.95),  # 1.00, 1.00
    "pii_leak": (0.95, 0.95),  # 1.00, 1.00
    "refusal": (0.75, 0.80),  # 0.80, 0.82
    "test_signature": (0.95, 0.95),  # 1.00, 1.00
    "unsafe_output": (0.95, 0.95),  # 1.00, 1.00
    "url_exfiltration": (0.95, 0.85),  # 1.00, 0.88
}


@dataclass
class Tally:
    answers: int = 0
    bad: int = 0
    failed: int = 0
    failed_bad: int = 0
    passed_bad: int = 0
    judged: int = 0

    @property
    def precision(self) -> float:
        return self.failed_bad / self.failed if self.failed else 1.0

    @property
    def recall(self) -> float:
        return 1 - self.passed_bad / self.bad if self.bad else 1.0


def load(path: Path) -> tuple[str, list[dict[str, Any]]]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    return document["canary"], document["sets"]


def measure(path: Path) -> tuple[dict[str, Tally], list[tuple[str, str, str, bool | None]]]:
    canary, sets = load(path)
    tallies: dict[str, Tally] = {}
    wrong = []
    for group in sets:
        tally = tallies.setdefault(group["detector"], Tally())
        for answer in group["answers"]:
            verdict = detect(group["detector"], group["params"], [answer["text"]], canary).passed
            bad = answer["bad"]
            tally.answers += 1
            tally.bad += bad
            tally.failed += verdict is False
            tally.failed_bad += verdict is False and bad
            tally.passed_bad += verdict is True and bad
            tally.judged += verdict is None
            if (verdict is False and not bad) or (verdict is True and bad):
                wrong.append((group["detector"], answer["kind"], answer["text"], verdict))
    return tallies, wrong


def table(tallies: dict[str, Tally]) -> str:
    """The README's table of one set."""
    lines = [
        "| detector | answers | bad | precision | recall | sent to judge |",
        "|---|---|---|---|---|---|",
    ]
    for name, t in sorted(tallies.items()):
        lines.append(
            f"| `{name}` | {t.answers} | {t.bad} | {t.precision:.2f} | {t.recall:.2f} "
            f"| {t.judged / t.answers:.0%} |"
        )
    return "\n".join(lines)


@pytest.mark.parametrize(("path", "size"), [(TUNING, 500), (HELDOUT, 200)])
def test_each_labelled_set_is_large_and_covers_both_labels_per_detector(
    path: Path, size: int
) -> None:
    _, sets = load(path)
    answers = [a for group in sets for a in group["answers"]]

    assert len(answers) >= size
    for group in sets:
        labels = {a["bad"] for a in group["answers"]}
        assert labels == {True, False}, group["detector"]
    kinds = {a["kind"] for a in answers}
    for kind in ("clear_refusal", "partial_compliance", "refusal_with_leak", "negation"):
        assert kind in kinds


def test_every_detector_meets_its_floor_on_the_tuning_set() -> None:
    tallies, wrong = measure(TUNING)

    print("tuning set\n" + table(tallies))  # noqa: T201 - the README's table
    for detector, kind, text, verdict in wrong:
        print(f"wrong: {detector} {kind} {verdict}: {text!r}")  # noqa: T201
    for name, t in tallies.items():
        floor = FLOORS["language" if name in LANGUAGE_DETECTORS else "pattern"]
        misses = [w for w in wrong if w[0] == name]
        assert t.precision >= floor and t.recall >= floor, (name, misses)


def test_every_detector_meets_its_floor_on_the_held_out_set() -> None:
    tallies, wrong = measure(HELDOUT)

    print("held-out set\n" + table(tallies))  # noqa: T201 - the README's table
    for detector, kind, text, verdict in wrong:
        print(f"wrong: {detector} {kind} {verdict}: {text!r}")  # noqa: T201
    assert set(tallies) == set(HELDOUT_FLOORS)
    for name, t in tallies.items():
        precision, recall = HELDOUT_FLOORS[name]
        misses = [w for w in wrong if w[0] == name]
        assert t.precision >= precision and t.recall >= recall, (name, misses)
