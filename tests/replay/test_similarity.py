from __future__ import annotations

from replay.similarity import edit_distance, edit_similarity, normalize


def test_edit_distance_counts_single_character_edits():
    assert edit_distance("kitten", "sitting") == 3
    assert edit_distance("", "abc") == 3
    assert edit_distance("flaw", "lawn") == 2
    assert edit_distance("same", "same") == 0


def test_similarity_ignores_case_and_whitespace_and_is_normalized_by_the_longer_text():
    assert normalize("  Hello,\n\n  World ") == "hello, world"
    assert edit_similarity("Hello\nWorld", "hello world") == 1.0
    # "kitten" -> "sitting": 3 edits over 7 characters.
    assert edit_similarity("kitten", "sitting") == 1 - 3 / 7
    assert edit_similarity("", "anything") == 0.0
    assert edit_similarity("", "") == 1.0
