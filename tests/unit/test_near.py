"""near.py: MinHash signatures over sampled byte shingles and the banded LSH index."""

from __future__ import annotations

import random

import pytest

from tuneline.lint import near
from tuneline.lint.near import BANDS, NUM_PERM, NearIndex, signatures, similarity, text_of

rng = random.Random(7)
VOCAB = [f"w{rng.randrange(10**6)}" for _ in range(400)]


def words(n: int, seed: int) -> list[str]:
    r = random.Random(seed)
    return [r.choice(VOCAB) for _ in range(n)]


def doc(ws: list[str]) -> bytes:
    return text_of([" ".join(ws)])


def sig(d: bytes) -> bytes:
    out = signatures([d])[0]
    assert out is not None
    return out[0]


def test_text_of() -> None:
    assert text_of(["Hello", "WORLD é"]) == "hello\nworld é".encode()
    assert text_of([]) == b""
    assert text_of(["\ud800"]) == b"\xed\xa0\x80"  # a lone surrogate does not raise


def test_signature_shape() -> None:
    (s, bands), = signatures([doc(words(60, 1))])  # type: ignore[misc]
    assert len(s) == NUM_PERM * 4
    assert len(bands) == BANDS
    assert all(isinstance(b, int) for b in bands)
    assert len(set(bands)) == BANDS  # band keys are salted per band


@pytest.mark.parametrize("d", [b"", b"short", b"exactly8", b"nine char"])
def test_too_few_shingles_is_none(d: bytes) -> None:
    assert signatures([d]) == [None]


def test_empty_batch() -> None:
    assert signatures([]) == []
    assert signatures([b"", b""]) == [None, None]


def test_signature_does_not_depend_on_the_batch() -> None:
    """Lines are cached and checked in different blocks: a document's signature must be the
    same alone and among any neighbours (no shingle may span two documents)."""
    docs = [doc(words(n, seed)) for seed, n in enumerate([40, 3, 80, 0, 25, 200])]
    alone = [signatures([d])[0] for d in docs]
    assert signatures(docs) == alone
    assert signatures(list(reversed(docs))) == list(reversed(alone))
    assert signatures(docs[2:4] + docs[:2]) == alone[2:4] + alone[:2]


def test_signature_is_deterministic_and_case_insensitive_via_text_of() -> None:
    ws = words(50, 3)
    assert sig(doc(ws)) == sig(doc(ws))
    assert sig(text_of([" ".join(ws).upper()])) == sig(doc(ws))


def test_similarity_tracks_overlap() -> None:
    base = words(200, 11)
    same = sig(doc(base))
    assert similarity(same, same) == 1.0
    scores = []
    for changed in (5, 40, 120, 200):
        variant = base[:-changed] + words(changed, 99)
        scores.append(similarity(same, sig(doc(variant))))
    assert scores == sorted(scores, reverse=True)
    assert scores[0] >= 0.8
    assert scores[-1] <= 0.2


def test_index_partners_are_symmetric_and_removable() -> None:
    base = words(150, 5)
    texts = [base, [*base[:-3], "x", "y", "z"], words(150, 6)]
    (a, ba), (b, bb), (c, bc) = signatures([doc(w) for w in texts])  # type: ignore[misc]
    idx = NearIndex(0.8)
    idx.add(b"A", a, ba)
    idx.add(b"B", b, bb)
    idx.add(b"C", c, bc)
    assert len(idx) == 3
    assert idx.partners(b"A") == {b"B"} and idx.partners(b"B") == {b"A"}
    assert idx.partners(b"C") == set()
    idx.add(b"A", a, ba)  # idempotent
    assert len(idx) == 3 and idx.partners(b"A") == {b"B"}
    idx.remove(b"A")
    assert idx.partners(b"B") == set() and len(idx) == 2
    idx.remove(b"A")  # removing twice is harmless
    idx.add(b"A", a, ba)
    assert idx.partners(b"B") == {b"A"}
    assert idx.partners(b"unknown") == set()


def test_index_threshold() -> None:
    base = words(150, 8)
    other = base[:-40] + words(40, 9)
    sa, sb = sig(doc(base)), sig(doc(other))
    est = similarity(sa, sb)
    (_, ba), (_, bb) = signatures([doc(base)])[0], signatures([doc(other)])[0]  # type: ignore[misc]
    for threshold, partnered in ((est, True), (min(1.0, est + 1 / NUM_PERM), False)):
        idx = NearIndex(threshold)
        idx.add(b"a", sa, ba)
        idx.add(b"b", sb, bb)
        assert (idx.partners(b"a") == {b"b"}) is partnered


def test_index_state_does_not_depend_on_insertion_order() -> None:
    docs = {f"k{i}".encode(): doc(words(120, 20 + i % 3) + words(i % 4, 50 + i))
            for i in range(12)}
    sigs = dict(zip(docs, signatures(list(docs.values())), strict=True))
    orders = [list(docs), list(reversed(docs)), sorted(docs, key=lambda k: k[::-1])]
    results = []
    for order in orders:
        idx = NearIndex(0.7)
        for k in order:
            s = sigs[k]
            assert s is not None
            idx.add(k, *s)
        results.append({k: idx.partners(k) for k in docs})
    assert results[0] == results[1] == results[2]
    assert any(results[0].values())  # the fixture does have near pairs


def test_module_constants_are_consistent() -> None:
    assert near.NUM_PERM == near.BANDS * near.ROWS
