from __future__ import annotations

import random

from audit.stats import levenshtein
from replay.similarity import edit_similarity, normalize


def test_edit_distance_counts_single_character_edits():
    assert levenshtein("kitten", "sitting") == 3
    assert levenshtein("", "abc") == 3
    assert levenshtein("flaw", "lawn") == 2
    assert levenshtein("same", "same") == 0


def test_similarity_ignores_case_and_whitespace_and_is_normalized_by_the_longer_text():
    assert normalize("  Hello,\n\n  World ") == "hello, world"
    assert edit_similarity("Hello\nWorld", "hello world") == 1.0
    # "kitten" -> "sitting": 3 edits over 7 characters.
    assert edit_similarity("kitten", "sitting") == 1 - 3 / 7
    assert edit_similarity("", "anything") == 0.0
    assert edit_similarity("", "") == 1.0


def _reference_distance(a: str, b: str) -> int:
    """The textbook dynamic programme, to check the bit-parallel one against."""
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, start=1):
        current = [i]
        for j, char_b in enumerate(b, start=1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b))
            )
        previous = current
    return previous[-1]


def test_edit_distance_agrees_with_the_textbook_algorithm_on_random_texts():
    rng = random.Random(10)
    for _ in range(500):
        a = "".join(rng.choice("abcde ") for _ in range(rng.randint(0, 90)))
        b = "".join(rng.choice("abcde ") for _ in range(rng.randint(0, 90)))
        assert levenshtein(a, b) == _reference_distance(a, b), (a, b)
