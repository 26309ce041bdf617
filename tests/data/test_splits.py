"""Train / validation / test splits (the label splits are checked through the note set)."""

from cadenza.data.splits import SPLITS, assign_piece_splits


def test_splits_are_balanced_and_seeded():
    ids = [f"piece{i}" for i in range(50)]
    splits = assign_piece_splits(ids, (0.8, 0.1, 0.1), seed=0)
    assert [list(splits.values()).count(s) for s in SPLITS] == [40, 5, 5]
    assert splits == assign_piece_splits(ids, (0.8, 0.1, 0.1), seed=0)
    assert splits != assign_piece_splits(ids, (0.8, 0.1, 0.1), seed=1)
    three = assign_piece_splits(ids[:3], (0.8, 0.1, 0.1), seed=0)
    assert sorted(three.values()) == ["test", "train", "validation"]
