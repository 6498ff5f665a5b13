"""The reason classifier: trained and versioned in the database, scored on held-out data, and
below the confidence threshold a contact goes to triage."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flowdesk.contacts import classifier
from flowdesk.contacts.errors import ReasonModelError
from flowdesk.contacts.intake import Intake
from flowdesk.core.clock import FixedClock
from flowdesk.store import Store

DATA = Path(__file__).resolve().parents[1] / "data" / "contacts"
ROWS = classifier.read_examples(DATA / "reasons.csv")


@pytest.fixture(scope="module")
def fitted() -> tuple[object, classifier.Scores, int]:
    return classifier.fit(ROWS)


def test_fixture_covers_the_eight_demo_reasons() -> None:
    reasons = {r for _, r in ROWS}
    assert len(ROWS) >= 300 and len(reasons) == 8


def test_held_out_and_independent_scores(fitted: tuple[object, classifier.Scores, int]) -> None:
    pipeline, held_out, train_examples = fitted
    holdout = classifier.score(pipeline, classifier.read_examples(DATA / "reasons_holdout.csv"))  # type: ignore[arg-type]
    print(
        f"\nreason classifier: held-out split accuracy {held_out.accuracy:.3f} macro-F1 "
        f"{held_out.macro_f1:.3f} ({held_out.examples} examples); independent file accuracy "
        f"{holdout.accuracy:.3f} macro-F1 {holdout.macro_f1:.3f} ({holdout.examples} examples)"
    )
    assert train_examples + held_out.examples == len(ROWS)
    assert held_out.accuracy >= 0.9 and held_out.macro_f1 >= 0.9
    assert holdout.accuracy >= 0.85 and holdout.macro_f1 >= 0.85


def test_training_versions_models_in_the_database(store: Store, clock: FixedClock) -> None:
    first = classifier.train(store, clock, ROWS, actor="ops")
    second = classifier.train(store, clock, ROWS[:200] + ROWS[200:], actor="ops")
    assert (first.version, second.version) == (1, 2)
    listed = classifier.models(store)
    assert [m["active"] for m in listed] == [False, True]
    model_id, _ = classifier.active_model(store) or ("", None)
    assert model_id == second.id
    scores = classifier.evaluate(store, classifier.read_examples(DATA / "reasons_holdout.csv"))
    assert scores.accuracy >= 0.85


def test_evaluate_without_a_model_says_what_to_do(store: Store) -> None:
    with pytest.raises(ReasonModelError, match="reasons train"):
        classifier.evaluate(store, ROWS[:10])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"words,label\nhi,x\n", "needs the columns text and reason"),
        (b"text,reason\nhello,\n", "line 2: text and reason must not be empty"),
        (b"text,reason\n", "no examples"),
        (b"text,reason\n\xff\n", "not UTF-8"),
    ],
)
def test_bad_training_files_are_refused(content: bytes, message: str) -> None:
    with pytest.raises(ReasonModelError, match=message):
        classifier.read_examples(content)


def test_too_few_examples_of_a_reason_is_refused() -> None:
    rows = [*ROWS, ("just once", "rare")]
    with pytest.raises(ReasonModelError, match="too few examples for rare"):
        classifier.fit(rows)


def test_model_recognises_reasons_and_low_confidence_goes_to_triage(
    store: Store, clock: FixedClock, intake: Intake
) -> None:
    classifier.train(store, clock, ROWS)
    billed = intake.submit(
        "chat",
        json.dumps(
            {"session_id": "s1", "email": "z@example.com", "text": "why is my invoice so high"}
        ).encode(),
    )
    assert billed.recognition is not None and billed.recognition.source == "model"
    assert billed.recognition.reason == "billing-inquiry" and billed.action == "started"
    assert billed.recognition.confidence >= intake.threshold
    vague = intake.submit(
        "chat",
        json.dumps({"session_id": "s2", "email": "y@example.com", "text": "hello"}).encode(),
    )
    assert vague.action == "triage"
    assert vague.recognition is not None and vague.recognition.confidence < intake.threshold
    assert len(vague.recognition.candidates) >= 2


def test_prediction_gives_scikit_learns_probabilities(
    fitted: tuple[object, classifier.Scores, int],
) -> None:
    """Intake scores one text with the fitted parameters directly (scikit-learn's per-call
    overhead was most of a contact's cost): the same probabilities, for the pipeline as trained
    and as loaded back from its stored form, on texts with no known n-gram too."""
    pipeline, _, _ = fitted
    loaded = classifier.load_pipeline(classifier.dump_pipeline(pipeline))  # type: ignore[arg-type]
    texts = [t for t, _ in classifier.read_examples(DATA / "reasons_holdout.csv")]
    texts += ["", "zzzz qqqq", "FACTURE ÉLEVÉE, remboursement ?", "refund " * 200]
    for model in (pipeline, loaded):
        for text in texts:
            expected = model.predict_proba([text])[0]  # type: ignore[attr-defined]
            ranked = classifier.predict(model, text, top=100)  # type: ignore[arg-type]
            assert [p for _, p in ranked] == sorted((p for _, p in ranked), reverse=True)
            got = dict(ranked)
            assert len(got) == len(expected)
            for reason, probability in zip(model.classes_, expected, strict=True):  # type: ignore[attr-defined]
                assert got[str(reason)] == pytest.approx(probability, abs=1e-12)
