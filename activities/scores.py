"""A model output's score per row, written once for both ends of the drift comparison.

The reference profile (``activities.profile``, evaluate) counts the candidate's scores on
the held-out rows; the gateway (``workers.gateway.predictions``) counts the scores it
serves; the drift monitor compares the two distributions bin by bin. Both must read a
score from an output the same way, or a model that has not drifted would look as if it
had: this is that one reading. Numpy only, so the gateway's hot path imports nothing more.
"""

from __future__ import annotations

import numpy as np


def first_scores(output: np.ndarray) -> np.ndarray | None:
    """Per-row score of a model output: column 1 of a two-column output (binary class
    probabilities), else column 0; ``None`` for a non-numeric or empty output."""
    a = np.asarray(output)
    if a.dtype.kind not in "fiub" or a.size == 0:
        return None
    if a.ndim >= 2:
        a = a.reshape(a.shape[0], -1)
        a = a[:, 1] if a.shape[1] == 2 else a[:, 0]
    return a.ravel().astype(np.float64, copy=False)


__all__ = ["first_scores"]
