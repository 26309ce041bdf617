"""Train / validation / test splits, seeded and balanced: by piece for the piano corpus, by
label for the note set."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence

SPLITS = ("train", "validation", "test")


def split_fractions(split: Sequence[float]) -> tuple[float, float, float]:
    """Three non-negative shares (train, validation, test), scaled to sum to 1."""
    values = tuple(float(f) for f in split)
    if len(values) != 3 or min(values) < 0 or sum(values) <= 0:
        raise ValueError(f"split must be three non-negative fractions, got {split!r}")
    return tuple(f / sum(values) for f in values)


def assign_piece_splits(
    ids: Sequence[str], fractions: Sequence[float], seed: int = 0
) -> dict[str, str]:
    """Split ids by a seeded hash order: counts by largest remainder, >= 1 per nonzero share."""
    counts = _split_counts(len(ids), fractions)
    ordered = sorted(ids, key=lambda i: _hash(seed, i))
    result = {}
    start = 0
    for name, count in zip(SPLITS, counts, strict=True):
        for i in ordered[start : start + count]:
            result[i] = name
        start += count
    return result


def assign_label_splits(
    items: Sequence[tuple], fractions: Sequence[float], seed: int = 0
) -> dict[tuple, str]:
    """Split labelled items (tuples of class values) so that every split sees every class.

    Items are taken in a seeded hash order. First each split with a nonzero share, in turn,
    takes items until it holds every value of every label at least once (when there are enough
    items); then validation and test are filled up to their shares and train takes the rest.
    """
    ordered = sorted(items, key=lambda item: _hash(seed, repr(item)))
    counts = _split_counts(len(ordered), fractions)
    values = [set(column) for column in zip(*ordered, strict=True)] if ordered else []
    needed = sum(max(map(len, values), default=0) for f in fractions if f > 0)
    result: dict[tuple, str] = {}
    if len(ordered) >= needed:
        for k, name in enumerate(SPLITS):
            if fractions[k] == 0:
                continue
            missing = [set(v) for v in values]
            for item in ordered:
                if not any(missing):
                    break
                if item in result or not any(x in m for x, m in zip(item, missing, strict=True)):
                    continue
                result[item] = name
                for x, m in zip(item, missing, strict=True):
                    m.discard(x)
    for k, name in ((1, "validation"), (2, "test")):
        have = sum(1 for s in result.values() if s == name)
        for item in ordered:
            if have >= counts[k]:
                break
            if item not in result:
                result[item] = name
                have += 1
    for item in ordered:
        result.setdefault(item, "train")
    return result


def _split_counts(total: int, fractions: Sequence[float]) -> list[int]:
    exact = [f * total for f in fractions]
    counts = [math.floor(x) for x in exact]
    by_remainder = sorted(range(3), key=lambda k: (-(exact[k] - counts[k]), k))
    for k in by_remainder[: total - sum(counts)]:
        counts[k] += 1
    if total >= sum(f > 0 for f in fractions):
        for k in range(3):
            if fractions[k] > 0 and counts[k] == 0:
                counts[max(range(3), key=lambda j: counts[j])] -= 1
                counts[k] = 1
    return counts


def _hash(seed: int, key: str) -> str:
    return hashlib.sha256(f"{seed}:{key}".encode()).hexdigest()
