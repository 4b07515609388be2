"""Batches cut by a token budget: every text in one batch, padded to a kernel-friendly width."""

from __future__ import annotations

import numpy as np

from indexer.embed.base import plan_batches


def test_batches_cover_every_text_once_padded_to_a_multiple_above_their_longest():
    lengths = sorted(np.random.default_rng(3).integers(1, 300, 5_000).tolist(), reverse=True)
    lengths = [min(n, 256) for n in lengths]  # the tokenizer cuts at the model's length
    batches = plan_batches(lengths, budget=4096, multiple=16, max_tokens=256, max_rows=128)
    covered = [i for start, end, _ in batches for i in range(start, end)]
    assert covered == list(range(len(lengths)))
    for start, end, width in batches:
        assert width % 16 == 0 and max(lengths[start:end]) <= width <= 256
        # Within the budget, unless one text alone is over it.
        assert (end - start) * width <= 4096 or end - start == 1
        assert end - start <= 128


def test_short_texts_go_many_to_a_batch_and_long_ones_few():
    batches = plan_batches([250] * 40 + [20] * 400, budget=4096, multiple=16, max_tokens=256,
                           max_rows=128)
    assert batches[0] == (0, 16, 256)  # 16 rows of 256 tokens
    assert batches[-1][2] == 32 and batches[-1][1] - batches[-1][0] <= 128
