"""Reason models are stored as data (JSON), never as a pickle, and predict the same after."""

from __future__ import annotations

import gzip
import json

import pytest

from flowdesk.contacts.classifier import dump_pipeline, fit, load_pipeline, predict

ROWS = [
    (text, reason)
    for reason, texts in {
        "refund-request": ["I want my money back", "please refund the double charge", "refund"],
        "complaint": ["I am very unhappy with your service", "formal complaint", "awful"],
        "no-internet": ["my internet is down", "no connection since morning", "wifi broken"],
    }.items()
    for text in texts * 4
]


def test_a_stored_model_is_json_and_predicts_like_the_trained_one() -> None:
    pipeline, _, _ = fit(ROWS)
    blob = dump_pipeline(pipeline)
    data = json.loads(gzip.decompress(blob))
    assert data["format"] == 1 and sorted(data["classes"]) == sorted({r for _, r in ROWS})
    restored = load_pipeline(blob)
    for text in ("money back please", "internet down again", "this is awful"):
        before = predict(pipeline, text)
        after = predict(restored, text)
        assert [c for c, _ in before] == [c for c, _ in after]
        assert all(abs(p - q) < 1e-9 for (_, p), (_, q) in zip(before, after, strict=True))


def test_a_model_in_another_format_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown model format"):
        load_pipeline(gzip.compress(json.dumps({"format": 99}).encode()))
