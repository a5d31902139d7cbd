"""Build a release's reference profile while the evaluate stage reads the dataset.

The evaluate stage feeds every batch's model inputs here (``add_inputs``: all
pseudonymized rows, so the reference covers as many patients as the data
has, not only the held-out fifth) and the candidate's output on the held-out
rows (``add_scores``); ``profile()`` then cuts numeric
features at their quantiles (so every bin holds about the same share of the
reference) and keeps, for categorical (string) features, only the categories
seen at least ``min_category_count`` times: every rarer value is counted in
``other`` and never named, so the profile holds no identifier.

Bins are exactly what the gateway sketches count over
(``workers.gateway.sketches``): a numeric value v falls in bin
``searchsorted(edges, v, side='right')``, a score s in bin ``int(s * B)``
clipped to ``[0, B - 1]``.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from medpipe.activities.model_inputs import InputBinding
from medpipe.activities.scores import first_scores
from medpipe.contracts.profile import (
    OTHER,
    PROFILE_PREDICTION_BINS,
    FeatureKind,
    FeatureProfile,
    ReferenceProfile,
)

#: Quantile bins per numeric feature (fewer when the feature has fewer distinct values).
NUMERIC_BINS = 10
#: Rows kept per numeric feature to cut its quantiles (the first ones, deterministic).
MAX_ROWS = 200_000
MIN_CATEGORY_COUNT = 20
#: At most this many features are profiled (the first ones, in input order) and this many
#: categories kept per feature (the most frequent): the profile travels in workflow
#: payloads and load requests, which must stay far below Temporal's payload limits.
MAX_FEATURES = 256
MAX_CATEGORIES = 50


def prediction_bins(scores: np.ndarray, bins: int = PROFILE_PREDICTION_BINS) -> np.ndarray:
    """Rows per fixed-width bin of ``scores`` over [0, 1] (non-finite scores left out)."""
    s = np.asarray(scores, dtype=np.float64).ravel()
    s = s[np.isfinite(s)]
    index = np.clip((s * bins).astype(np.int64), 0, bins - 1)
    return np.bincount(index, minlength=bins)


def numeric_edges(values: np.ndarray, bins: int = NUMERIC_BINS) -> tuple[float, ...]:
    """Interior quantile cut points (distinct, sorted) of the finite ``values``."""
    v = values[np.isfinite(values)]
    if v.size == 0:
        return ()
    qs = np.quantile(v, np.linspace(0.0, 1.0, bins + 1)[1:-1])
    edges = np.unique(qs)
    # a cut at the minimum leaves bin 0 empty: drop it
    return tuple(float(e) for e in edges if e > v.min())


@dataclass
class _Feature:
    name: str
    tensor: str
    column: int
    text: bool
    values: list[np.ndarray] = field(default_factory=list)
    kept: int = 0
    categories: Counter[str] = field(default_factory=Counter)


class ProfileBuilder:
    """Accumulates the inputs and scores of the evaluated rows, batch by batch."""

    def __init__(self, bindings: list[InputBinding],
                 min_category_count: int = MIN_CATEGORY_COUNT, scores: bool = True) -> None:
        """Args:
        bindings: which dataset columns feed which model input (from ``bind_inputs``).
        min_category_count: rarer categories are folded into ``other``.
        scores: profile the score distribution (binary tasks: P(positive) over [0, 1]).
        """
        self._features = [_Feature(col, b.input.name, i, b.is_text)
                          for b in bindings for i, col in enumerate(b.columns)][:MAX_FEATURES]
        self._min = min_category_count
        self._predictions = np.zeros(PROFILE_PREDICTION_BINS, dtype=np.int64)
        self.scored = 0
        self.rows = 0
        self._score = scores

    def add_inputs(self, feeds: dict[str, np.ndarray]) -> None:
        """Count one batch of model inputs (every validated row, not only held-out ones)."""
        for f in self._features:
            arr = feeds[f.tensor]
            col = arr[:, f.column] if arr.ndim == 2 else arr
            if f.text:
                f.categories.update(map(str, col))  # no Python frame a row
            elif f.kept < MAX_ROWS:
                take = np.asarray(col[:MAX_ROWS - f.kept], dtype=np.float64)
                f.values.append(take)
                f.kept += take.size
        self.rows += len(next(iter(feeds.values()))) if feeds else 0

    def add_scores(self, output: np.ndarray | None) -> None:
        """Count the candidate's scores on one batch of held-out rows."""
        scores = first_scores(output) if output is not None and self._score else None
        if scores is not None:
            self._predictions += prediction_bins(scores)
            self.scored += scores.size

    def add(self, feeds: dict[str, np.ndarray], output: np.ndarray | None) -> None:
        """Count one batch's inputs and scores (rows that are both profiled and held out)."""
        self.add_inputs(feeds)
        self.add_scores(output)

    def _numeric(self, f: _Feature) -> FeatureProfile:
        values = np.concatenate(f.values) if f.values else np.zeros(0)
        edges = numeric_edges(values)
        index = np.searchsorted(np.asarray(edges, dtype=np.float64), values, side="right")
        counts = np.bincount(index, minlength=len(edges) + 1)
        return FeatureProfile(name=f.name, tensor=f.tensor, column=f.column,
                              kind=FeatureKind.NUMERIC, edges=edges,
                              counts=tuple(int(c) for c in counts))

    def _categorical(self, f: _Feature) -> FeatureProfile:
        frequent = [c for c, n in f.categories.most_common() if n >= self._min and c != OTHER]
        kept = sorted(frequent[:MAX_CATEGORIES])
        other = sum(n for c, n in f.categories.items() if c not in kept)
        return FeatureProfile(name=f.name, tensor=f.tensor, column=f.column,
                              kind=FeatureKind.CATEGORICAL, categories=tuple(kept),
                              counts=tuple(f.categories[c] for c in kept) + (other,))

    def profile(self) -> ReferenceProfile:
        """The reference profile of every row added so far."""
        features = tuple(self._categorical(f) if f.text else self._numeric(f)
                         for f in self._features)
        return ReferenceProfile(
            rows=self.rows, features=features, min_category_count=self._min,
            prediction_counts=tuple(int(c) for c in self._predictions) if self.scored else ())


def profile_digest(profile: ReferenceProfile) -> str:
    """SHA-256 of the profile as stored (canonical JSON)."""
    return hashlib.sha256(profile_bytes(profile)).hexdigest()


def profile_bytes(profile: ReferenceProfile) -> bytes:
    """The stored form of a profile (canonical JSON, stable across runs)."""
    return profile.model_dump_json().encode()
