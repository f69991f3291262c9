"""Near-duplicate detection: MinHash over sampled 8-byte shingles, banded LSH index.

A document's shingles are its lower-cased UTF-8 text's 8-byte windows, hashed; a fixed share of
hash values is kept (1/8) (consistent sampling preserves Jaccard estimates). Signatures for a block
of documents are computed in one vectorised pass, cached with each line, and the index is
updated by add/remove so an edit touches only the changed lines.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from itertools import islice
from operator import eq

import numpy as np

NUM_PERM = 32
BANDS = 8
ROWS = NUM_PERM // BANDS
WINDOW = 8
SAMPLE_BITS = 3  # keep shingles whose hash has these low bits zero (1 in 8)
MIN_SHINGLES = 3
MAX_COMPARISONS = 32
_rng = np.random.default_rng(20261123)
# Multiply-add hashing mod 2**32 (odd multipliers): cheap, and good enough for MinHash here.
_A = (_rng.integers(0, 1 << 31, size=NUM_PERM, dtype=np.uint32) << np.uint32(1)) | np.uint32(1)
_B = _rng.integers(0, 1 << 32, size=NUM_PERM, dtype=np.uint32)
_BAND_MIX = _rng.integers(1, 1 << 63, size=ROWS, dtype=np.uint64) | np.uint64(1)
_BAND_SALT = np.arange(BANDS, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
_MIX = np.uint64(0x9E3779B97F4A7C15)
_SAMPLE_MASK = np.uint64((1 << SAMPLE_BITS) - 1)


def text_of(texts: Sequence[str]) -> bytes:
    """The bytes a document's shingles are taken from."""
    return "\n".join(texts).lower().encode("utf-8", "surrogatepass")


def signatures(docs: Sequence[bytes]) -> list[tuple[bytes, tuple[int, ...]] | None]:
    """(signature bytes, band keys) per document; None when it has too few shingles.

    All documents are concatenated; every 8-byte window is read as one uint64 through a
    1-byte-stride view, windows crossing a document boundary are dropped, the rest hashed,
    sampled, and reduced to a per-document minimum per permutation.
    """
    out: list[tuple[bytes, tuple[int, ...]] | None] = [None] * len(docs)
    if not docs:
        return out
    blob = b"".join(docs) + b"\0" * WINDOW
    lengths = np.fromiter(map(len, docs), dtype=np.int64, count=len(docs))
    ends = np.cumsum(lengths)
    starts = ends - lengths
    n = int(ends[-1])
    if n == 0:
        return out
    windows = np.ndarray((n,), dtype="<u8", buffer=blob, strides=(1,))
    with np.errstate(over="ignore"):
        h = windows * _MIX
    h ^= h >> np.uint64(29)
    keep = (h & _SAMPLE_MASK) == 0
    for back in range(1, WINDOW):  # windows running past their document's end
        cut = ends - back
        keep[cut[cut >= starts]] = False
    positions = np.flatnonzero(keep)
    h32 = (h[positions] >> np.uint64(32)).astype(np.uint32)
    who = np.searchsorted(ends, positions, side="right")
    counts = np.bincount(who, minlength=len(docs))
    docs_ok = np.flatnonzero(counts >= MIN_SHINGLES)
    if len(docs_ok) == 0:
        return out
    sel = counts[who] >= MIN_SHINGLES
    h32, who = h32[sel], who[sel]
    seg_starts = np.concatenate(([0], np.cumsum(counts[docs_ok])[:-1]))
    with np.errstate(over="ignore"):
        mixed = _A[:, None] * h32[None, :]
        mixed += _B[:, None]
    sigs = np.minimum.reduceat(mixed, seg_starts, axis=1).T.copy()
    band_rows = sigs.reshape(len(docs_ok), BANDS, ROWS).astype(np.uint64)
    with np.errstate(over="ignore"):
        band_keys = (band_rows * _BAND_MIX).sum(axis=2) + _BAND_SALT
    band_list = band_keys.tolist()
    for j, i in enumerate(docs_ok.tolist()):
        out[i] = (sigs[j].tobytes(), tuple(band_list[j]))
    return out


def similarity(a: bytes, b: bytes) -> float:
    """Estimated Jaccard similarity of two signatures (share of equal MinHash values)."""
    return sum(map(eq, array("I", a), array("I", b))) / NUM_PERM


class NearIndex:
    """Banded LSH over content keys; `partners(key)` gives keys estimated above threshold."""

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold
        self._min_equal = threshold * NUM_PERM
        self._buckets: dict[int, bytes | set[bytes]] = {}
        self._entries: dict[bytes, tuple[array, tuple[int, ...]]] = {}
        self._partners: dict[bytes, set[bytes]] = {}

    def add(self, key: bytes, sig: bytes, bands: tuple[int, ...]) -> None:
        """Index `key`; compare it with at most MAX_COMPARISONS bucket mates (templated data
        can put thousands of examples in one bucket: comparing all would be quadratic)."""
        if key in self._entries:
            return
        buckets = self._buckets
        mates: set[bytes] = set()
        for band in bands:
            held = buckets.get(band)
            if held is None:
                buckets[band] = key
                continue
            if isinstance(held, bytes):
                held = buckets[band] = {held}
            if len(mates) < MAX_COMPARISONS:
                mates.update(islice(held, MAX_COMPARISONS - len(mates)))
            held.add(key)
        mine = array("I", sig)
        self._entries[key] = (mine, bands)
        entries = self._entries
        for other in mates:
            if sum(map(eq, mine, entries[other][0])) >= self._min_equal:
                self._partners.setdefault(key, set()).add(other)
                self._partners.setdefault(other, set()).add(key)

    def remove(self, key: bytes) -> None:
        entry = self._entries.pop(key, None)
        if entry is None:
            return
        for band in entry[1]:
            held = self._buckets.get(band)
            if held == key:
                del self._buckets[band]
            elif isinstance(held, set):
                held.discard(key)
                if len(held) == 1:
                    self._buckets[band] = next(iter(held))
        for other in self._partners.pop(key, ()):
            mates = self._partners.get(other)
            if mates is not None:
                mates.discard(key)
                if not mates:
                    del self._partners[other]

    def partners(self, key: bytes) -> set[bytes]:
        return self._partners.get(key, set())

    def __len__(self) -> int:
        return len(self._entries)
