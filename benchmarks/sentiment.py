"""Accuracy of Flowdesk's sentiment scores on public human-rated sets.

The sets: the four ground-truth files of Hutto & Gilbert (ICWSM 2014) that the vaderSentiment
3.3.2 source distribution on PyPI ships (additional_resources/hutto_ICWSM_2014.tar.gz): 4,200
tweets, 3,708 Amazon review snippets, 10,605 movie review snippets and 5,190 New York Times
editorial snippets, each with the mean of about 20 people's ratings on -4..+4. They are the
sets the lexicon's authors evaluated on (not trained on: the lexicon came from rated words), so
figures here are on home ground; the tweets and review snippets are the closest to what
customers write. On first use `pip download` fetches the sdist into .bench-venv/.

Figures, per set: binary polarity accuracy (texts the raters found clearly positive or
negative, a mean beyond +-0.5; the score's sign, a score of 0 counted wrong), three-class
accuracy and macro F1 (neutral: a human mean within +-0.5, a compound within +-0.05, VADER's
own threshold), Pearson r of compound and human mean (the paper's own figure, to check that
Flowdesk calls VADER as its authors did), the share of texts without any sentiment word
(scored 0), and the majority class's accuracy beside them (what a guess scores). Ends by
printing ONE JSON line.

    python benchmarks/sentiment.py [--quick]     # --quick: the first 1,000 texts of each set
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tarfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from flowdesk.sentiment.score import compound_of, label_of  # noqa: E402

CACHE = ROOT / ".bench-venv" / "vader-sdist"
SETS = {
    "tweets": "tweets_GroundTruth.txt",
    "amazon": "amazonReviewSnippets_GroundTruth.txt",
    "movies": "movieReviewSnippets_GroundTruth.txt",
    "nyt": "nytEditorialSnippets_GroundTruth.txt",
}


def data_dir() -> Path:
    folder = CACHE / "hutto_ICWSM_2014"
    if folder.is_dir():
        return folder
    CACHE.mkdir(parents=True, exist_ok=True)
    pip = [sys.executable, "-m", "pip", "download", "vaderSentiment==3.3.2"]
    subprocess.run([*pip, "--no-binary", ":all:", "--no-deps", "-d", str(CACHE), "-q"], check=True)
    with tarfile.open(CACHE / "vaderSentiment-3.3.2.tar.gz") as sdist:
        inner = sdist.extractfile(
            "vaderSentiment-3.3.2/additional_resources/hutto_ICWSM_2014.tar.gz"
        )
        assert inner is not None
        (CACHE / "inner.tar.gz").write_bytes(inner.read())
    with tarfile.open(CACHE / "inner.tar.gz") as corpus:
        corpus.extractall(CACHE, filter="data")
    return folder


def read(path: Path, limit: int | None) -> list[tuple[float, str]]:
    rows = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.split("\t", 2)
        if len(parts) == 3:
            rows.append((float(parts[1]), parts[2]))
    return rows[:limit] if limit else rows


def human_label(mean: float) -> str:
    return "positive" if mean > 0.5 else "negative" if mean < -0.5 else "neutral"


def measure(rows: list[tuple[float, str]]) -> dict[str, float | int]:
    started = time.perf_counter()
    scores = [compound_of(text) for _, text in rows]
    seconds = time.perf_counter() - started
    truth = [m for m, _ in rows]
    polar = [(m, s) for m, s in zip(truth, scores, strict=True) if abs(m) >= 0.5]
    binary = sum(1 for m, s in polar if (m > 0 and s > 0) or (m < 0 and s < 0)) / len(polar)
    majority_binary = max(sum(m > 0 for m, _ in polar), sum(m < 0 for m, _ in polar)) / len(polar)
    gold = [human_label(m) for m in truth]
    said = [label_of(s) for s in scores]
    three = sum(g == p for g, p in zip(gold, said, strict=True)) / len(gold)
    f1s = []
    for label in ("negative", "neutral", "positive"):
        tp = sum(g == p == label for g, p in zip(gold, said, strict=True))
        fp = sum(p == label != g for g, p in zip(gold, said, strict=True))
        fn = sum(g == label != p for g, p in zip(gold, said, strict=True))
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    n = len(truth)
    mt, ms = sum(truth) / n, sum(scores) / n
    cov = sum((a - mt) * (b - ms) for a, b in zip(truth, scores, strict=True))
    r = cov / math.sqrt(sum((a - mt) ** 2 for a in truth) * sum((b - ms) ** 2 for b in scores))
    return {
        "texts": n,
        "clearly_rated": len(polar),
        "binary_accuracy": round(binary, 4),
        "binary_majority": round(majority_binary, 4),
        "three_class_accuracy": round(three, 4),
        "three_class_majority": round(Counter(gold).most_common(1)[0][1] / n, 4),
        "macro_f1": round(sum(f1s) / 3, 4),
        "pearson_r": round(r, 4),
        "no_sentiment_word": round(sum(1 for s in scores if s == 0) / n, 4),
        "ms_per_text": round(1000 * seconds / n, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the first 1,000 texts of each set")
    args = parser.parse_args()
    folder = data_dir()
    limit = 1000 if args.quick else None
    figures = {name: measure(read(folder / file, limit)) for name, file in SETS.items()}
    print(json.dumps({"benchmark": "sentiment", "quick": args.quick, "sets": figures}))


if __name__ == "__main__":
    main()
