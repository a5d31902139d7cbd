"""The reference profile of a release: what its inputs and predictions looked like.

Built at evaluation: input histograms over every row of the pseudonymized
(validated) dataset, the prediction distribution over its held-out rows (the
rows the model was judged on); stored with the release and handed to the
gateways in the load request, so every gateway counts live traffic over the
same bins and the drift monitor compares like with like. Everything here is
bin edges and counts: a rare category is folded into ``other`` (never
named), so the profile carries no identifier and may sit in history.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

#: Fixed-width prediction bins over [0, 1] (the gateway's prediction histogram uses the same).
PROFILE_PREDICTION_BINS = 20
#: The bin a categorical feature counts every value outside its kept categories in.
OTHER = "other"


class FeatureKind(StrEnum):
    """How a feature is binned."""

    NUMERIC = "numeric"
    CATEGORICAL = "categorical"


class FeatureProfile(BaseModel):
    """One model feature: where the gateway finds it, its bins, and the reference counts.

    Attributes:
        name: the dataset column.
        tensor: the model input it feeds; column: its index in a ``[batch, columns]``
            input (0 for a ``[batch]`` input).
        kind: numeric (``edges``: sorted interior cut points, quantiles of the
            reference; a value v falls in bin ``searchsorted(edges, v, 'right')``,
            so there are ``len(edges) + 1`` bins) or categorical (``categories``: kept
            values, then one ``other`` bin for everything else).
        counts: reference rows per bin.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    tensor: str = Field(min_length=1, max_length=200)
    column: int = Field(default=0, ge=0)
    kind: FeatureKind
    edges: tuple[float, ...] = ()
    categories: tuple[str, ...] = ()
    counts: tuple[int, ...]

    @property
    def bins(self) -> int:
        """Number of bins the counts run over."""
        if self.kind is FeatureKind.NUMERIC:
            return len(self.edges) + 1
        return len(self.categories) + 1

    @model_validator(mode="after")
    def _consistent(self) -> FeatureProfile:
        if len(self.counts) != self.bins:
            raise ValueError(f"feature '{self.name}': {len(self.counts)} counts for "
                             f"{self.bins} bins")
        if list(self.edges) != sorted(self.edges):
            raise ValueError(f"feature '{self.name}': bin edges are not sorted")
        return self


class ReferenceProfile(BaseModel):
    """Per-feature histograms and the prediction distribution of one release.

    Attributes:
        rows: rows whose inputs were profiled (every row of the dataset).
        features: one profile per model feature that could be binned.
        prediction_counts: held-out rows per fixed-width bin of the candidate's score over [0, 1]
            (``PROFILE_PREDICTION_BINS``), empty when the model gives no score.
        min_category_count: a category seen fewer times is folded into ``other``
            (as is every category beyond the 50 most frequent).

    At most 256 features are profiled (the first, in input order), so the profile
    stays small enough for workflow payloads.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    rows: int = Field(ge=0)
    features: tuple[FeatureProfile, ...] = ()
    prediction_counts: tuple[int, ...] = ()
    min_category_count: int = Field(default=20, ge=1)
