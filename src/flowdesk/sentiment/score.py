"""Sentiment of one text and the words that drive it, with VADER (vaderSentiment 3.3.2).

Why VADER: a rule-based lexicon tuned for short, informal text (reviews, tweets, the way
customers write), shipped inside the wheel (no download, no model to train or keep), a few
hundred microseconds per text, and explainable: every word's valence is in the lexicon, so the
words that drive a score can be shown to an agent. Its authors measured it on human-rated
sets that its sdist ships; our own figures on them are in docs/analytics.md.

`compound` is in [-1, 1]; the label uses VADER's documented thresholds (>= 0.05 positive,
<= -0.05 negative). The driving words are the lexicon words of the text, each with its
contribution: the compound of the text less the compound without that word, so a negated
word ("not helpful") counts with the sign it has in context.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from vaderSentiment.vaderSentiment import (  # type: ignore[import-untyped]
    SentimentIntensityAnalyzer,
)

POSITIVE = 0.05
NEGATIVE = -0.05
#: At or below this compound a contact counts as strongly negative (routing raises it).
STRONGLY_NEGATIVE = -0.5
#: Words shown per text.
MAX_DRIVERS = 5
#: Longer texts are cut (an email thread quoted in full says little more).
MAX_CHARS = 2000

_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")


@dataclass(frozen=True, slots=True)
class Sentiment:
    compound: float
    label: str  # positive | neutral | negative
    drivers: tuple[tuple[str, float], ...]  # (word, contribution), strongest first

    def as_dict(self) -> dict[str, object]:
        return {
            "compound": self.compound,
            "label": self.label,
            "drivers": [{"word": w, "weight": v} for w, v in self.drivers],
        }


@lru_cache(maxsize=1)
def analyzer() -> SentimentIntensityAnalyzer:
    """One analyzer per process: loading the lexicon takes about 50 ms."""
    return SentimentIntensityAnalyzer()


def label_of(compound: float) -> str:
    if compound >= POSITIVE:
        return "positive"
    if compound <= NEGATIVE:
        return "negative"
    return "neutral"


def compound_of(text: str) -> float:
    return float(analyzer().polarity_scores(text[:MAX_CHARS])["compound"])


def score(text: str) -> Sentiment:
    """The sentiment of a text and its driving words (an empty text is neutral)."""
    text = (text or "")[:MAX_CHARS]
    if not text.strip():
        return Sentiment(0.0, "neutral", ())
    vader = analyzer()
    compound = float(vader.polarity_scores(text)["compound"])
    spans = [
        m for m in _WORD.finditer(text) if m.group().lower() in vader.lexicon and len(m.group()) > 1
    ]
    weights: dict[str, float] = {}
    for m in spans[:20]:  # bounded cost on long texts
        without = text[: m.start()] + text[m.end() :]
        effect = compound - float(vader.polarity_scores(without)["compound"])
        word = m.group().lower()
        if abs(effect) >= 0.01 and abs(effect) > abs(weights.get(word, 0.0)):
            weights[word] = round(effect, 3)
    drivers = sorted(weights.items(), key=lambda kv: -abs(kv[1]))[:MAX_DRIVERS]
    return Sentiment(round(compound, 4), label_of(compound), tuple(drivers))
