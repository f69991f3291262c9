"""Batching that wastes little compute on padding.

Packing puts several examples in one `max_seq_length` row, best-fit decreasing; each example
keeps its own position ids (restarting at 0), and with no attention mask transformers turns
the resets into a block-diagonal mask, so attention never crosses examples. Length grouping
puts rows (packed or single examples) of similar length in the same batch. The plan for an epoch is a
pure function of (data, seed, epoch), so a resumed run sees the same batches.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Sequence
from typing import Any

from tuneline.train.data import IGNORE, Tokenized

Plan = list[list[list[int]]]  # batches → rows → example indices


def pack_bfd(lengths: Sequence[int], capacity: int) -> list[list[int]]:
    """Bins of example indices, each summing to ≤ capacity: longest first, into the fullest bin
    that still has room (best-fit decreasing)."""
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    bins: list[list[int]] = []
    free: list[tuple[int, int]] = []  # (room left, bin index), sorted
    for i in order:
        size = lengths[i]
        if size > capacity:
            raise ValueError(f"example {i} has {size} tokens, more than the row size {capacity}")
        k = bisect.bisect_left(free, (size, -1))
        if k < len(free):
            room, b = free.pop(k)
            bins[b].append(i)
        else:
            b, room = len(bins), capacity
            bins.append([i])
        room -= size
        if room > 0:
            bisect.insort(free, (room, b))
    return bins


def plan_epoch(lengths: Sequence[int], *, batch_size: int, max_seq_length: int, packing: bool,
               group_by_length: bool, seed: int, epoch: int, shuffle: bool = True) -> Plan:
    """The batches of one epoch (every example once).

    Rows are packed bins (packing) or single examples. With group_by_length, rows of similar
    size share a batch (sorted within random chunks), so padding rows to the batch's longest
    costs little; the batch order is still shuffled.
    """
    rng = random.Random(seed * 100_003 + epoch)
    rows = pack_bfd(lengths, max_seq_length) if packing else [[i] for i in range(len(lengths))]
    if shuffle:
        rng.shuffle(rows)
    if group_by_length:
        size = [sum(lengths[i] for i in row) for row in rows]
        order = list(range(len(rows)))
        chunk = batch_size * 32
        order = [k for s in range(0, len(order), chunk)
                 for k in sorted(order[s:s + chunk], key=lambda j: -size[j])]
        rows = [rows[k] for k in order]
    batches = [rows[i:i + batch_size] for i in range(0, len(rows), batch_size)]
    if shuffle and group_by_length:
        rng.shuffle(batches)
    return batches


def collate(examples: Sequence[Tokenized], batch: list[list[int]], pad_id: int,
            packed: bool) -> dict[str, Any]:
    """Tensors for one batch; `tokens` counts real (non-padding) tokens, `targets` labels."""
    import torch

    rows_ids, rows_labels, rows_pos = [], [], []
    for row in batch:
        ids: list[int] = []
        labels: list[int] = []
        pos: list[int] = []
        for i in row:
            ex = examples[i]
            ids += ex.input_ids
            labels += ex.labels
            pos += range(len(ex))
        rows_ids.append(ids)
        rows_labels.append(labels)
        rows_pos.append(pos)
    width = max(len(r) for r in rows_ids)
    tokens = sum(len(r) for r in rows_ids)
    out: dict[str, Any] = {}
    if packed:
        # Padding becomes its own "sequence" (positions restart), which the block mask isolates.
        for ids, labels, pos in zip(rows_ids, rows_labels, rows_pos, strict=True):
            n = width - len(ids)
            ids += [pad_id] * n
            labels += [IGNORE] * n
            pos += range(n)
        out["position_ids"] = torch.tensor(rows_pos, dtype=torch.long)
    else:
        mask = [[1] * len(r) + [0] * (width - len(r)) for r in rows_ids]
        for ids, labels in zip(rows_ids, rows_labels, strict=True):
            n = width - len(ids)
            ids += [pad_id] * n
            labels += [IGNORE] * n
        out["attention_mask"] = torch.tensor(mask, dtype=torch.long)
    out["input_ids"] = torch.tensor(rows_ids, dtype=torch.long)
    out["labels"] = torch.tensor(rows_labels, dtype=torch.long)
    out["tokens"] = tokens
    out["targets"] = int((out["labels"] != IGNORE).sum())
    return out


def padding_fraction(plan: Plan, lengths: Sequence[int]) -> float:
    """Share of the computed positions that are padding."""
    real = computed = 0
    for batch in plan:
        sizes = [sum(lengths[i] for i in row) for row in batch]
        real += sum(sizes)
        computed += max(sizes) * len(sizes)
    return 1 - real / computed if computed else 0.0
