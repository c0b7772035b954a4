"""Pure numbers for the metrics: edit distance, latency histograms, the A/B interval."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

Z_95 = 1.959963984540054  # two-sided 95 % normal quantile


def levenshtein(a: str, b: str) -> int:
    """The minimum number of single-character insertions, deletions and substitutions
    that turn `a` into `b`."""
    # A shared prefix and suffix cost nothing; drafts and sent texts usually share most of both.
    start = 0
    while start < len(a) and start < len(b) and a[start] == b[start]:
        start += 1
    end_a, end_b = len(a), len(b)
    while end_a > start and end_b > start and a[end_a - 1] == b[end_b - 1]:
        end_a -= 1
        end_b -= 1
    a, b = a[start:end_a], b[start:end_b]
    if not a or not b:
        return len(a) + len(b)
    # Bit-parallel dynamic programming (Myers 1999, in Hyyro's form for the global distance):
    # a column of the edit matrix lives in two bit vectors, so each character of `b` costs a
    # few integer operations instead of a loop over `a`; Python's integers hold any length.
    positions: dict[str, int] = {}
    for i, char in enumerate(a):
        positions[char] = positions.get(char, 0) | (1 << i)
    mask = (1 << len(a)) - 1
    last = 1 << (len(a) - 1)
    plus, minus, score = mask, 0, len(a)  # vertical +1 / -1 deltas; D[len(a)][0]
    for char in b:
        eq = positions.get(char, 0)
        xv = eq | minus
        xh = (((eq & plus) + plus) ^ plus) | eq
        h_plus = minus | ~(xh | plus)
        h_minus = plus & xh
        if h_plus & last:
            score += 1
        elif h_minus & last:
            score -= 1
        h_plus = (h_plus << 1) | 1
        h_minus <<= 1
        plus = (h_minus | ~(xv | h_plus)) & mask
        minus = h_plus & xv & mask
    return score


def normalized_edit_distance(draft: str, sent: str) -> float:
    """Levenshtein distance divided by the longer text's length: 0 = identical, 1 = nothing
    in common. Two empty texts are identical (0)."""
    longest = max(len(draft), len(sent))
    return levenshtein(draft, sent) / longest if longest else 0.0


# --- latency histogram -----------------------------------------------------------------
# Bucket upper edges: 10 ms steps to 1 s, 100 ms steps to 10 s, 1 s steps to 120 s, then
# one overflow bucket. Percentiles are reported as the upper edge of the bucket holding the
# nearest-rank value, so they are exact for latencies on an edge and at most one step high.
OVERFLOW = "inf"


def latency_bucket(ms: int) -> str:
    """The histogram key (upper edge in ms, as text) for a latency."""
    if ms <= 1000:
        edge = math.ceil(ms / 10) * 10
    elif ms <= 10_000:
        edge = math.ceil(ms / 100) * 100
    elif ms <= 120_000:
        edge = math.ceil(ms / 1000) * 1000
    else:
        return OVERFLOW
    return str(edge)


def histogram(latencies: Iterable[int]) -> dict[str, int]:
    hist: dict[str, int] = {}
    for ms in latencies:
        key = latency_bucket(ms)
        hist[key] = hist.get(key, 0) + 1
    return hist


def merge_histograms(histograms: Iterable[Mapping[str, int]]) -> dict[str, int]:
    merged: dict[str, int] = {}
    for hist in histograms:
        for key, count in hist.items():
            merged[key] = merged.get(key, 0) + count
    return merged


def histogram_percentile(hist: Mapping[str, int], percent: float) -> int | None:
    """The nearest-rank `percent` percentile (upper bucket edge in ms); None when empty,
    -1 when it falls in the overflow bucket (over 120 s)."""
    total = sum(hist.values())
    if not total:
        return None
    rank = max(1, math.ceil(percent / 100 * total))
    seen = 0
    for key in sorted(hist, key=lambda k: math.inf if k == OVERFLOW else int(k)):
        seen += hist[key]
        if seen >= rank:
            return -1 if key == OVERFLOW else int(key)
    raise AssertionError("unreachable: the ranks add up to the total")


# --- A/B: difference of two proportions ---------------------------------------------------


def wilson_interval(successes: int, n: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval for one proportion."""
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    centre = p + z * z / (2 * n)
    margin = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    denominator = 1 + z * z / n
    return ((centre - margin) / denominator, (centre + margin) / denominator)


@dataclass(frozen=True)
class Difference:
    """p1 - p2 with its 95 % Newcombe hybrid score interval (Newcombe 1998, method 10)."""

    p1: float
    p2: float
    difference: float
    low: float
    high: float


def newcombe_difference(x1: int, n1: int, x2: int, n2: int, z: float = Z_95) -> Difference:
    """The difference of proportions x1/n1 - x2/n2 and its Newcombe interval: each arm's
    Wilson interval (l_i, u_i) gives low = d - sqrt((p1-l1)^2 + (u2-p2)^2) and
    high = d + sqrt((u1-p1)^2 + (p2-l2)^2). Unlike the Wald interval it stays inside
    [-1, 1] and behaves at small samples and rates near 0 or 1."""
    if n1 == 0 or n2 == 0:
        raise ValueError("both arms need at least one observation")
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson_interval(x1, n1, z)
    l2, u2 = wilson_interval(x2, n2, z)
    d = p1 - p2
    return Difference(
        p1=p1,
        p2=p2,
        difference=d,
        low=d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2),
        high=d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2),
    )
