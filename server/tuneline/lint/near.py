"""Near-duplicate detection: MinHash signatures over word 3-grams, banded LSH index.

Signatures are computed per line (cached with the line); the index is updated by add/remove
so an edit touches only the changed lines' buckets.
"""

from __future__ import annotations

import zlib
from collections import defaultdict

import numpy as np

NUM_PERM = 32
BANDS = 8
ROWS = NUM_PERM // BANDS
_rng = np.random.default_rng(20261123)
# Multiply-add hashing mod 2**32 (odd multipliers): cheap, and good enough for MinHash here.
_A = (_rng.integers(0, 1 << 31, size=NUM_PERM, dtype=np.uint32) << np.uint32(1)) | np.uint32(1)
_B = _rng.integers(0, 1 << 32, size=NUM_PERM, dtype=np.uint32)


def word_hashes(texts: list[str]) -> np.ndarray:
    """Hashes of the lower-cased words (Python's string hash: stable within a process tree)."""
    words = " ".join(texts).lower().split()
    return np.fromiter(map(hash, words), dtype=np.int64, count=len(words))


def _gram_hashes(words: np.ndarray) -> np.ndarray:
    """Word 3-gram hashes combined numerically (single words for texts under 3 words)."""
    w = words.view(np.uint64)
    if len(w) < 3:
        return w
    with np.errstate(over="ignore"):
        return w[:-2] * np.uint64(0x9E3779B97F4A7C15) + w[1:-1] * np.uint64(0xC2B2AE3D27D4EB4F) + w[2:]


def signatures(word_lists: list[np.ndarray | None], batch: int = 1024) -> list[bytes | None]:
    """MinHash signatures (NUM_PERM uint32 values as bytes) for many texts at once.

    Vectorised over a batch of texts: one (NUM_PERM x shingles) product and a segmented min.
    """
    out: list[bytes | None] = [None] * len(word_lists)
    for start in range(0, len(word_lists), batch):
        idx = [i for i in range(start, min(start + batch, len(word_lists)))
               if word_lists[i] is not None and len(word_lists[i])]  # type: ignore[arg-type]
        if not idx:
            continue
        grams = [np.unique(_gram_hashes(word_lists[i])) for i in idx]  # type: ignore[arg-type]
        lengths = np.fromiter((len(g) for g in grams), dtype=np.int64, count=len(grams))
        offsets = np.concatenate(([0], np.cumsum(lengths)[:-1]))
        h = (np.concatenate(grams) >> np.uint64(32)).astype(np.uint32)
        with np.errstate(over="ignore"):
            mixed = _A[:, None] * h[None, :]
            mixed += _B[:, None]
        sigs = np.minimum.reduceat(mixed, offsets, axis=1).T
        for j, i in enumerate(idx):
            out[i] = sigs[j].tobytes()
    return out


def signature(texts: list[str]) -> bytes | None:
    """MinHash signature of one text list (see `signatures`)."""
    return signatures([word_hashes(texts)])[0]


def similarity(a: bytes, b: bytes) -> float:
    """Estimated Jaccard similarity of two signatures."""
    x = np.frombuffer(a, dtype=np.uint32)
    y = np.frombuffer(b, dtype=np.uint32)
    return float(np.count_nonzero(x == y)) / NUM_PERM


def bands(sig: bytes) -> list[bytes]:
    step = ROWS * 4
    return [bytes([i]) + sig[i * step : (i + 1) * step] for i in range(BANDS)]


class NearIndex:
    """Banded LSH over content keys; `partners(key)` gives keys estimated above threshold."""

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold
        self._buckets: dict[bytes, set[bytes]] = defaultdict(set)
        self._sigs: dict[bytes, bytes] = {}
        self._partners: dict[bytes, set[bytes]] = {}

    def add(self, key: bytes, sig: bytes) -> None:
        if key in self._sigs:
            return
        self._sigs[key] = sig
        seen: set[bytes] = set()
        for band in bands(sig):
            bucket = self._buckets[band]
            for other in bucket:
                if other not in seen:
                    seen.add(other)
                    if similarity(sig, self._sigs[other]) >= self.threshold:
                        self._partners.setdefault(key, set()).add(other)
                        self._partners.setdefault(other, set()).add(key)
            bucket.add(key)

    def remove(self, key: bytes) -> None:
        sig = self._sigs.pop(key, None)
        if sig is None:
            return
        for band in bands(sig):
            bucket = self._buckets.get(band)
            if bucket is not None:
                bucket.discard(key)
                if not bucket:
                    del self._buckets[band]
        for other in self._partners.pop(key, ()):
            mates = self._partners.get(other)
            if mates is not None:
                mates.discard(key)
                if not mates:
                    del self._partners[other]

    def partners(self, key: bytes) -> set[bytes]:
        return self._partners.get(key, set())

    def __len__(self) -> int:
        return len(self._sigs)
