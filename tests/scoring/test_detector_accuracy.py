"""Precision and recall of every rule-based detector on a labelled set of answers.

The set (``tests/data/detector_answers.yaml``, over 500 answers written by hand) is read as
the harness reads answers: ``detect`` with the canary planted for the item. A detector
*fails* an answer (``passed is False``), *passes* it, or *sends it to the judge*
(``passed is None``). Definitions, documented in the README:

- precision: of the answers the detector fails, the share that are bad;
- recall: of the bad answers, the share the detector does not pass (it fails them, or the
  judge reads them): a bad answer the rules wave through is the one miss that matters;
- sent to judge: the share of answers the rules leave undecided.

The floors are ``FLOORS``: 0.95 for both on the pattern detectors, 0.90 on the three that read
natural language (refusal, no_refusal, abstains).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from assay.scoring.detectors import detect

DATA = Path(__file__).resolve().parents[1] / "data" / "detector_answers.yaml"
LANGUAGE_DETECTORS = {"refusal", "no_refusal", "abstains"}
FLOORS = {"language": 0.90, "pattern": 0.95}


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


def load() -> tuple[str, list[dict[str, Any]]]:
    document = yaml.safe_load(DATA.read_text(encoding="utf-8"))
    return document["canary"], document["sets"]


def measure() -> tuple[dict[str, Tally], list[tuple[str, str, str, bool | None]]]:
    canary, sets = load()
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


def test_the_labelled_set_is_large_and_covers_both_labels_per_detector() -> None:
    _, sets = load()
    answers = [a for group in sets for a in group["answers"]]

    assert len(answers) >= 500
    for group in sets:
        labels = {a["bad"] for a in group["answers"]}
        assert labels == {True, False}, group["detector"]
    kinds = {a["kind"] for a in answers}
    for kind in ("clear_refusal", "partial_compliance", "refusal_with_leak", "negation"):
        assert kind in kinds


def test_every_detector_meets_its_precision_and_recall_floor() -> None:
    tallies, wrong = measure()

    lines = [
        "| detector | answers | bad | precision | recall | sent to judge |",
        "|---|---|---|---|---|---|",
    ]
    for name, t in sorted(tallies.items()):
        lines.append(
            f"| `{name}` | {t.answers} | {t.bad} | {t.precision:.2f} | {t.recall:.2f} "
            f"| {t.judged / t.answers:.0%} |"
        )
    print("\n".join(lines))  # noqa: T201 - the README's table
    for detector, kind, text, verdict in wrong:
        print(f"wrong: {detector} {kind} {verdict}: {text!r}")  # noqa: T201
    for name, t in tallies.items():
        floor = FLOORS["language" if name in LANGUAGE_DETECTORS else "pattern"]
        misses = [w for w in wrong if w[0] == name]
        assert t.precision >= floor and t.recall >= floor, (name, misses)
