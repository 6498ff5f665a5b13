"""Reason recognition by rules, tried before the classifier: a reason stated explicitly (a form
field, an agent's choice), the caller's IVR menu choice, then keywords in the text.

Rules are data (`ReasonRules`), so a deployment can bring its own menu and keywords; the
defaults fit the demo company's reasons.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache


@dataclass(frozen=True, slots=True)
class Recognition:
    reason: str | None
    source: str  # explicit | ivr | keyword | model | none
    confidence: float
    candidates: tuple[tuple[str, float], ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {
            "reason": self.reason,
            "source": self.source,
            "confidence": round(self.confidence, 4),
            "candidates": [[r, round(p, 4)] for r, p in self.candidates],
        }


DEFAULT_IVR = {
    "1": "no-internet",
    "2": "billing-inquiry",
    "3": "moving-house",
    "4": "new-service-installation",
    "5": "cancellation",
    "6": "refund-request",
    "7": "complaint",
    "9": "account-takeover",
}

#: Phrases specific enough to decide alone (matched on word boundaries, case-insensitive).
DEFAULT_KEYWORDS: dict[str, tuple[str, ...]] = {
    "account-takeover": ("hacked", "account takeover", "someone logged into my account"),
    "cancellation": ("cancel my contract", "terminate my contract", "cancel my subscription"),
    "moving-house": ("moving house", "change of address", "moving to a new address"),
    "no-internet": ("no internet", "internet is down", "broadband is down"),
    "refund-request": ("refund",),
    "complaint": ("formal complaint", "make a complaint"),
}


@lru_cache(maxsize=32)
def _compiled(
    keywords: tuple[tuple[str, tuple[str, ...]], ...],
) -> list[tuple[str, re.Pattern[str]]]:
    return [
        (reason, re.compile(r"\b" + re.escape(word) + r"\b", re.I))
        for reason, words in keywords
        for word in words
    ]


@dataclass(frozen=True, slots=True)
class ReasonRules:
    ivr: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_IVR))
    keywords: Mapping[str, Sequence[str]] = field(default_factory=lambda: dict(DEFAULT_KEYWORDS))

    def _patterns(self) -> list[tuple[str, re.Pattern[str]]]:
        return _compiled(tuple((r, tuple(words)) for r, words in self.keywords.items()))

    def recognise(
        self,
        *,
        text: str,
        explicit: str | None = None,
        ivr_choice: str | None = None,
        known: set[str] | None = None,
    ) -> Recognition | None:
        """The reason a rule decides, or None when no rule applies (then ask the model).

        Only reasons in `known` (the catalog) count, when it is given: a stale menu entry or a
        made-up form value never starts a flow that does not exist."""

        def ok(reason: str | None) -> bool:
            return reason is not None and (known is None or reason in known)

        if ok(explicit):
            return Recognition(explicit, "explicit", 1.0)
        if ivr_choice is not None and ok(self.ivr.get(ivr_choice.strip())):
            return Recognition(self.ivr[ivr_choice.strip()], "ivr", 1.0)
        hits = sorted({r for r, pattern in self._patterns() if pattern.search(text) and ok(r)})
        if len(hits) == 1:
            return Recognition(hits[0], "keyword", 1.0)
        return None
