"""The trained reason classifier: TF-IDF over word 1-2-grams and character 2-5-grams feeding a
logistic regression, trained on a labelled CSV (columns text,reason).

Every training run stores a new model version in the database (the fitted parameters as
gzipped JSON with their sha256, accuracy and macro-F1 on a stratified held-out split) and makes
it the active one. The stored model is data only (vocabularies, idf weights, coefficients),
never a pickle: loading a model can not run code, whoever wrote the row.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import threading
import time
import warnings
import weakref
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update

from flowdesk.contacts.errors import ReasonModelError
from flowdesk.contacts.models import reason_models
from flowdesk.core.clock import Clock
from flowdesk.core.event_types import EventType
from flowdesk.core.events import NewEvent
from flowdesk.core.ids import IdGenerator, UuidIds
from flowdesk.store import Store
from flowdesk.store.hotpath import driver_io

ALGORITHM = "tfidf(word 1-2 + char_wb 2-5, sublinear) + logistic regression (saga, C=20)"
MIN_EXAMPLES_PER_REASON = 2
MAX_FILE_BYTES = 50 * 1024 * 1024

# scikit-learn loads in seconds; only training, scoring and prediction need it, so the intake,
# the server and the CLI start without it until a model is used.
if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline  # type: ignore[import-untyped]


@dataclass(frozen=True, slots=True)
class Scores:
    accuracy: float
    macro_f1: float
    examples: int
    labels: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "accuracy": round(self.accuracy, 4),
            "macro_f1": round(self.macro_f1, 4),
            "examples": self.examples,
            "labels": self.labels,
        }


@dataclass(frozen=True, slots=True)
class TrainedModel:
    id: str
    version: int
    algorithm: str
    train_examples: int
    held_out: Scores
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "version": self.version,
            "algorithm": self.algorithm,
            "train_examples": self.train_examples,
            "held_out": self.held_out.to_dict(),
            "seconds": round(self.seconds, 3),
        }


def read_examples(source: str | Path | bytes) -> list[tuple[str, str]]:
    """(text, reason) rows of a CSV with a header naming the columns text and reason."""
    if isinstance(source, bytes):
        raw = source
        name = "upload"
    else:
        path = Path(source)
        name = str(path)
        if not path.is_file():
            raise ReasonModelError(f"{name}: no such file")
        raw = path.read_bytes()
    if len(raw) > MAX_FILE_BYTES:
        raise ReasonModelError(f"{name}: larger than {MAX_FILE_BYTES} bytes")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ReasonModelError(
            f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start})"
        ) from None
    reader = csv.DictReader(io.StringIO(text))
    columns = [c.strip().lower() for c in reader.fieldnames or []]
    if "text" not in columns or "reason" not in columns:
        raise ReasonModelError(
            f"{name}: needs the columns text and reason, found {', '.join(columns) or 'none'}"
        )
    rows: list[tuple[str, str]] = []
    for line, record in enumerate(reader, start=2):
        fields = {k.strip().lower(): (v or "").strip() for k, v in record.items() if k}
        if not fields.get("text") or not fields.get("reason"):
            raise ReasonModelError(f"{name}, line {line}: text and reason must not be empty")
        rows.append((fields["text"], fields["reason"]))
    if not rows:
        raise ReasonModelError(f"{name}: no examples")
    return rows


def build_pipeline() -> Pipeline:
    from sklearn.feature_extraction.text import TfidfVectorizer  # type: ignore[import-untyped]
    from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
    from sklearn.pipeline import FeatureUnion, Pipeline

    features = FeatureUnion(
        [
            (
                "word",
                TfidfVectorizer(
                    analyzer="word",
                    ngram_range=(1, 2),
                    sublinear_tf=True,
                    min_df=1,
                    lowercase=True,
                    strip_accents="unicode",
                ),
            ),
            (
                "char",
                TfidfVectorizer(
                    analyzer="char_wb",
                    ngram_range=(2, 5),
                    sublinear_tf=True,
                    min_df=1,
                    lowercase=True,
                    strip_accents="unicode",
                ),
            ),
        ]
    )
    return Pipeline(
        [
            ("features", features),
            ("model", LogisticRegression(C=20, solver="saga", max_iter=300, tol=1e-3)),
        ]
    )


def dump_pipeline(pipeline: Pipeline) -> bytes:
    """The fitted parameters of the pipeline as gzipped JSON (no code, unlike a pickle)."""
    features = dict(pipeline.named_steps["features"].transformer_list)
    model = pipeline.named_steps["model"]
    data = {
        "format": 1,
        "vectorizers": {
            name: {
                "vocabulary": {term: int(i) for term, i in vec.vocabulary_.items()},
                "idf": [float(x) for x in vec.idf_],
            }
            for name, vec in features.items()
        },
        "classes": [str(c) for c in model.classes_],
        "coef": [[float(x) for x in row] for row in model.coef_],
        "intercept": [float(x) for x in model.intercept_],
    }
    return gzip.compress(json.dumps(data, separators=(",", ":")).encode("utf-8"), mtime=0)


def load_pipeline(blob: bytes) -> Pipeline:
    """A pipeline rebuilt from dump_pipeline's data, ready to predict."""
    import numpy as np

    data = json.loads(gzip.decompress(blob))
    if data.get("format") != 1:
        raise ValueError(f"unknown model format {data.get('format')!r}")
    pipeline = build_pipeline()
    features = dict(pipeline.named_steps["features"].transformer_list)
    for name, params in data["vectorizers"].items():
        vec = features[name]
        vec.vocabulary_ = {str(term): int(i) for term, i in params["vocabulary"].items()}
        vec.idf_ = np.asarray(params["idf"], dtype=np.float64)
    model = pipeline.named_steps["model"]
    model.classes_ = np.asarray(data["classes"], dtype=object)
    model.coef_ = np.asarray(data["coef"], dtype=np.float64)
    model.intercept_ = np.asarray(data["intercept"], dtype=np.float64)
    model.n_features_in_ = model.coef_.shape[1]
    return pipeline


def score(pipeline: Pipeline, rows: list[tuple[str, str]]) -> Scores:
    from sklearn.metrics import accuracy_score, f1_score  # type: ignore[import-untyped]

    texts = [t for t, _ in rows]
    truth = [r for _, r in rows]
    predicted = list(pipeline.predict(texts))
    return Scores(
        accuracy=float(accuracy_score(truth, predicted)),
        macro_f1=float(f1_score(truth, predicted, average="macro", zero_division=0)),
        examples=len(rows),
        labels=sorted(set(truth)),
    )


def fit(
    rows: list[tuple[str, str]], *, test_size: float = 0.2, seed: int = 7
) -> tuple[Pipeline, Scores, int]:
    """Train on a stratified split and score the held-out part; then refit on all rows so the
    stored model learns from every example (the reported scores are the held-out ones)."""
    counts = Counter(r for _, r in rows)
    thin = sorted(r for r, n in counts.items() if n < MIN_EXAMPLES_PER_REASON * 2)
    if len(counts) < 2:
        raise ReasonModelError("training needs examples of at least two reasons")
    if thin:
        raise ReasonModelError(
            f"too few examples for {', '.join(thin)}",
            hint=f"give every reason at least {MIN_EXAMPLES_PER_REASON * 2} examples",
        )
    from sklearn.exceptions import ConvergenceWarning  # type: ignore[import-untyped]
    from sklearn.model_selection import train_test_split  # type: ignore[import-untyped]

    train, test = train_test_split(
        rows, test_size=test_size, random_state=seed, stratify=[r for _, r in rows]
    )
    with warnings.catch_warnings():  # saga stops at max_iter with a usable model
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipeline = build_pipeline()
        pipeline.fit([t for t, _ in train], [r for _, r in train])
        held_out = score(pipeline, test)
        final = build_pipeline()
        final.fit([t for t, _ in rows], [r for _, r in rows])
    return final, held_out, len(train)


def train(
    store: Store,
    clock: Clock,
    rows: list[tuple[str, str]],
    *,
    actor: str | None = None,
    ids: IdGenerator | None = None,
) -> TrainedModel:
    """Train, store as the next version and activate it."""
    started = time.perf_counter()
    pipeline, held_out, train_examples = fit(rows)
    seconds = time.perf_counter() - started
    blob = dump_pipeline(pipeline)
    model_id = (ids or UuidIds()).new_id()
    now = clock.now()
    with store.unit_of_work() as uow:
        conn = uow.connection
        version = (
            int(
                conn.execute(
                    select(func.coalesce(func.max(reason_models.c.version), 0))
                ).scalar_one()
            )
            + 1
        )
        conn.execute(update(reason_models).values(active=False))
        conn.execute(
            reason_models.insert().values(
                id=model_id,
                version=version,
                algorithm=ALGORITHM,
                labels=held_out.labels,
                examples=len(rows),
                accuracy=held_out.accuracy,
                macro_f1=held_out.macro_f1,
                active=True,
                blob=blob,
                sha256=hashlib.sha256(blob).hexdigest(),
                created_at=now,
                actor=actor,
            )
        )
        uow.append(
            NewEvent(
                EventType.REASON_MODEL_TRAINED,
                now,
                {"model_id": model_id, "version": version, **held_out.to_dict()},
                actor=actor,
            )
        )
    _CACHE.clear()
    return TrainedModel(model_id, version, ALGORITHM, train_examples, held_out, seconds)


_CACHE: dict[str, Pipeline] = {}
_LOCK = threading.Lock()
#: On the driver (store/hotpath.py): intake asks it for every contact.
_ACTIVE = "SELECT id, sha256 FROM reason_models WHERE active"


def active_model(store: Store) -> tuple[str, Pipeline] | None:
    """The active model (id, pipeline), loaded once per process and version."""
    with store.reading() as conn:
        row = driver_io(conn).one(conn, _ACTIVE, ())
        if row is None:
            return None
        model_id, digest = row
        with _LOCK:
            cached = _CACHE.get(model_id)
        if cached is not None:
            return model_id, cached
        blob = conn.execute(
            select(reason_models.c.blob).where(reason_models.c.id == model_id)
        ).scalar_one()
    if hashlib.sha256(blob).hexdigest() != digest:
        raise ReasonModelError(f"reason model {model_id} does not match its checksum")
    try:
        pipeline = load_pipeline(blob)
    except (ValueError, KeyError, TypeError, OSError) as exc:
        raise ReasonModelError(f"reason model {model_id} cannot be read: {exc}") from None
    with _LOCK:
        _CACHE.clear()
        _CACHE[model_id] = pipeline
    return model_id, pipeline


class _Scorer:
    """The fitted pipeline's arithmetic for one text, without scikit-learn's per-call machinery.

    `Pipeline.predict_proba` on one text spends about 5 ms in input validation, the feature
    union's joblib dispatch and sparse-matrix assembly, for a few hundred n-gram lookups and a
    dot product; intake classifies one contact at a time, so that was its largest cost. This
    computes the same numbers (TF-IDF with sublinear tf and L2 norm per vectorizer, then the
    logistic regression's softmax, or its sigmoid for two classes) from the same fitted
    parameters; tests check it against `predict_proba`.
    """

    def __init__(self, pipeline: Pipeline) -> None:
        import numpy as np

        self._np = np
        self._parts = []
        offset = 0
        for _, vec in pipeline.named_steps["features"].transformer_list:
            if vec.norm not in ("l2", None) or not vec.use_idf:  # pragma: no cover - not built
                raise ValueError(f"unsupported vectorizer settings (norm={vec.norm!r})")
            part = (vec.build_analyzer(), vec.vocabulary_, vec.idf_, vec.sublinear_tf, vec.norm)
            self._parts.append((*part, offset))
            offset += len(vec.idf_)
        model = pipeline.named_steps["model"]
        self.classes = [str(c) for c in model.classes_]
        self._coef = np.ascontiguousarray(model.coef_.T)  # features x classes: rows by index
        self._intercept = np.asarray(model.intercept_, dtype=np.float64)

    def probabilities(self, text: str) -> list[float]:
        np = self._np
        indices: list[int] = []
        values: list[float] = []
        for analyze, vocabulary, idf, sublinear, norm, offset in self._parts:
            counts: dict[int, int] = {}
            for term in analyze(text):
                index = vocabulary.get(term)
                if index is not None:
                    counts[index] = counts.get(index, 0) + 1
            if not counts:
                continue
            where = np.fromiter(counts, dtype=np.int64, count=len(counts))
            tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
            weights = (np.log(tf) + 1.0 if sublinear else tf) * idf[where]
            if norm == "l2":
                length = float(np.sqrt(weights @ weights))
                if length > 0:
                    weights /= length
            indices.extend((where + offset).tolist())
            values.extend(weights.tolist())
        scores = self._intercept.copy()
        if indices:
            scores += np.asarray(values) @ self._coef[indices]
        if len(self.classes) == 2:  # binary logistic regression: one score for the second class
            second = 1.0 / (1.0 + float(np.exp(-scores[0])))
            return [1.0 - second, second]
        scores -= scores.max()
        exp = np.exp(scores)
        return [float(x) for x in exp / exp.sum()]


_SCORERS: weakref.WeakKeyDictionary[Any, _Scorer] = weakref.WeakKeyDictionary()


def _scorer(pipeline: Pipeline) -> _Scorer:
    with _LOCK:
        found = _SCORERS.get(pipeline)
    if found is None:
        found = _Scorer(pipeline)
        with _LOCK:
            _SCORERS[pipeline] = found
    return found


def predict(pipeline: Pipeline, text: str, top: int = 3) -> list[tuple[str, float]]:
    """The most probable reasons with their probabilities, best first."""
    scorer = _scorer(pipeline)
    ranked = sorted(
        zip(scorer.classes, scorer.probabilities(text), strict=True), key=lambda cp: -cp[1]
    )
    return ranked[:top]


def evaluate(store: Store, rows: Iterable[tuple[str, str]]) -> Scores:
    """Accuracy and macro-F1 of the active model on any labelled rows."""
    loaded = active_model(store)
    if loaded is None:
        raise ReasonModelError(
            "no reason model is trained yet", hint="run flowdesk reasons train FILE.csv"
        )
    return score(loaded[1], list(rows))


def models(store: Store) -> list[dict[str, Any]]:
    with store.reading() as conn:
        rows = conn.execute(
            select(
                reason_models.c.id,
                reason_models.c.version,
                reason_models.c.algorithm,
                reason_models.c.examples,
                reason_models.c.accuracy,
                reason_models.c.macro_f1,
                reason_models.c.active,
                reason_models.c.created_at,
            ).order_by(reason_models.c.version)
        ).all()
    return [{**dict(r._mapping), "created_at": r.created_at.isoformat()} for r in rows]
