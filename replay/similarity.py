"""How close a replayed draft is to the text the agent sent: normalized edit similarity."""

from __future__ import annotations

import re

_SPACE = re.compile(r"\s+")


def normalize(text: str) -> str:
    """Case-folded, whitespace collapsed and trimmed: line breaks and capitals are not edits."""
    return _SPACE.sub(" ", text.casefold()).strip()


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insert, delete, substitute one character, each cost 1)."""
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


def edit_similarity(text: str, reference: str) -> float:
    """1 - edit distance / length of the longer text, both normalized; 1.0 means identical."""
    a, b = normalize(text), normalize(reference)
    longest = max(len(a), len(b))
    if longest == 0:
        return 1.0
    return 1 - edit_distance(a, b) / longest
