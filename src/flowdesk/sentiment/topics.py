"""Topics of customer words: the key terms of each group of texts (a reason, a period).

Why TF-IDF over groups rather than a topic model (LDA, NMF): a support desk already groups
its texts by reason, and what a supervisor asks is "what do customers of this reason talk
about that the others do not"; one document per group, weighted by scikit-learn's
TfidfVectorizer (English stop words, words and word pairs), answers exactly that, is
deterministic, and each term's weight is the word that drives it."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

TERMS = 8
#: Case references and codes ("FD-12345", "fd12345") say nothing of a topic.
_CODES = re.compile(r"\b[A-Za-z]{0,3}-?\d[\w-]*")


def topics(groups: Mapping[str, Sequence[str]], *, terms: int = TERMS) -> list[dict[str, Any]]:
    """Key terms per group, strongest first: [{"group", "texts", "terms": [{term, weight}]}]."""
    names = [g for g in sorted(groups) if any(t.strip() for t in groups[g])]
    if not names:
        return []
    from sklearn.feature_extraction.text import TfidfVectorizer  # type: ignore[import-untyped]

    docs = [_CODES.sub(" ", " ".join(groups[g])) for g in names]
    vectorizer = TfidfVectorizer(
        stop_words="english",
        ngram_range=(1, 2),
        sublinear_tf=True,
        token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z]+\b",
    )
    try:
        matrix = vectorizer.fit_transform(docs)
    except ValueError:  # only stop words
        return [{"group": g, "texts": len(groups[g]), "terms": []} for g in names]
    vocabulary = vectorizer.get_feature_names_out()
    out = []
    for i, name in enumerate(names):
        row = matrix.getrow(i).tocoo()
        pairs = sorted(zip(row.col, row.data, strict=True), key=lambda p: -p[1])[:terms]
        out.append(
            {
                "group": name,
                "texts": len(groups[name]),
                "terms": [
                    {"term": str(vocabulary[j]), "weight": round(float(w), 3)} for j, w in pairs
                ],
            }
        )
    return out
