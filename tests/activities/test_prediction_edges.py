"""Regression bin edges: quantiles of a bounded, uniform, reproducible sample of predictions."""

from __future__ import annotations

import numpy as np

from medpipe.activities.task_metrics import Reservoir, quantile_edges


def test_edges_split_the_predictions_into_equal_shares() -> None:
    values = np.random.default_rng(1).normal(50.0, 10.0, 50_000)
    sample = Reservoir(size=20_000)
    for chunk in np.array_split(values, 37):
        sample.add(chunk)
    assert sample.values.size == 20_000  # bounded, whatever the number of rows
    edges = quantile_edges(sample.values)
    assert len(edges) == 9 and list(edges) == sorted(edges)
    shares = np.bincount(np.searchsorted(edges, values, side="left"), minlength=10) / values.size
    assert np.all(np.abs(shares - 0.1) < 0.01), shares  # ~1 % sampling error at 20 000


def test_the_same_rows_give_the_same_edges() -> None:
    values = np.random.default_rng(2).exponential(3.0, 30_000)

    def edges() -> tuple[float, ...]:
        sample = Reservoir(size=5_000)
        for chunk in np.array_split(values, 9):
            sample.add(chunk)
        return quantile_edges(sample.values)

    assert edges() == edges()


def test_few_distinct_values_give_fewer_edges_and_nothing_gives_none() -> None:
    assert quantile_edges(np.array([1.0, 1.0, 1.0, 2.0, 2.0])) == (1.0, 2.0)  # observed values
    assert quantile_edges(np.array([np.nan, 3.0])) == ()
    assert quantile_edges(np.empty(0)) == ()
