"""How close a replayed draft is to the text the agent sent: normalized edit similarity."""

from __future__ import annotations

import re

from audit.stats import levenshtein

_SPACE = re.compile(r"\s+")


def normalize(text: str) -> str:
    """Case-folded, whitespace collapsed and trimmed: line breaks and capitals are not edits."""
    return _SPACE.sub(" ", text.casefold()).strip()


def edit_similarity(text: str, reference: str) -> float:
    """1 - edit distance / length of the longer text, both normalized; 1.0 means identical."""
    a, b = normalize(text), normalize(reference)
    longest = max(len(a), len(b))
    if longest == 0:
        return 1.0
    return 1 - levenshtein(a, b) / longest
