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
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, start=1):
        current = [i]
        for j, char_b in enumerate(b, start=1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b))
            )
        previous = current
    return previous[-1]


def edit_similarity(text: str, reference: str) -> float:
    """1 - edit distance / length of the longer text, both normalized; 1.0 means identical."""
    a, b = normalize(text), normalize(reference)
    longest = max(len(a), len(b))
    if longest == 0:
        return 1.0
    return 1 - edit_distance(a, b) / longest
