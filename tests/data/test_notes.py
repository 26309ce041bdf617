"""Notes: validation and one key at a time."""

import pytest

from cadenza.data.notes import Note, merge_unisons


def test_merge_unisons_plays_one_key_at_a_time():
    merged = merge_unisons([(60, 50, 0.0, 1.0), (60, 90, 0.0, 0.5), (60, 70, 0.8, 1.0)])
    assert merged == [Note(60, 90, 0.0, 0.8), Note(60, 70, 0.8, 1.0)]


def test_bad_notes_are_errors():
    with pytest.raises(ValueError, match="velocity"):
        Note(60, 0, 0.0, 1.0)
