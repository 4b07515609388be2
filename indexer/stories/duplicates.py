"""Word-for-word copies: MinHash signatures of word shingles, banded for LSH look-ups."""

from __future__ import annotations

import hashlib
import re

import numpy as np
from datasketch import MinHash

SHINGLE_WORDS = 5
NUM_PERM = 128
# 32 bands of 4 rows: a pair with Jaccard 0.8 shares a band with probability ~1.0, a pair
# with 0.5 with ~0.87, a pair with 0.2 with ~0.05; candidates are then checked exactly.
BANDS, ROWS = 32, 4
_WORD = re.compile(r"\w+", re.UNICODE)


def shingles(text: str) -> set[str]:
    """Overlapping runs of five words, case folded: what "the same text" is measured on."""
    words = _WORD.findall(text.lower())
    if len(words) <= SHINGLE_WORDS:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i:i + SHINGLE_WORDS]) for i in range(len(words) - SHINGLE_WORDS + 1)}


def signatures(shingle_sets: list[set[str]]) -> list[np.ndarray]:
    """MinHash signatures (NUM_PERM unsigned 64-bit values) of each set."""
    encoded = [[s.encode("utf-8") for s in sorted(group)] for group in shingle_sets]
    return [m.hashvalues.astype(np.uint64) for m in
            MinHash.bulk(encoded, num_perm=NUM_PERM, seed=1)]


def band_keys(signature: np.ndarray) -> list[int]:
    """One key per band; two articles that share any key are duplicate candidates."""
    keys = []
    for band in range(BANDS):
        chunk = signature[band * ROWS:(band + 1) * ROWS].tobytes()
        digest = hashlib.blake2b(chunk + bytes([band]), digest_size=8).digest()
        keys.append(int.from_bytes(digest, "big", signed=True))
    return keys


def estimated_jaccard(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean(a == b))


def jaccard(a: set[str], b: set[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)
