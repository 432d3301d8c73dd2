"""Timing statistics shared by the benchmark's parts: percentiles and a p50 / p95 / max / mean summary in ms."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


def percentile(samples: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``samples`` by linear interpolation between closest ranks (numpy's default).

    Never below the median or above the maximum for q in [0.5, 1]. Raises ValueError on no samples.
    """
    if not samples:
        raise ValueError("no samples")
    ordered = sorted(samples)
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True)
class Timing:
    """A set of timed runs summarised: ms, 2 decimals."""

    p50_ms: float
    p95_ms: float
    max_ms: float
    mean_ms: float
    iterations: int

    @classmethod
    def of(cls, samples_ms: Sequence[float]) -> Timing:
        """Summarise ``samples_ms``. Raises ValueError on no samples."""
        return cls(
            p50_ms=round(percentile(samples_ms, 0.5), 2),
            p95_ms=round(percentile(samples_ms, 0.95), 2),
            max_ms=round(max(samples_ms), 2),
            mean_ms=round(sum(samples_ms) / len(samples_ms), 2),
            iterations=len(samples_ms),
        )
