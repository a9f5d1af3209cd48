"""SFT of the emotional LM: inseparability direction on a tiny run, resume, baseline parity."""

from __future__ import annotations

import pytest
import torch

from lm_helpers import SCHEMA, labelled, tiny_lm
from maiga.lm.alignment import encode_conversation
from maiga.sft.ablation import ablation_table
from maiga.sft.batches import batch_indices
from maiga.sft.train_config import SftTrainConfig
from maiga.sft.trainer import train_lm

DIALOGUES = [
    ("Hello there. How are you today?", "I am fine, thank you! It was happy."),
    ("Write a short poem about the sea.", "The waves are blue. The wind is cold."),
    ("The cat sat on the mat.", "Then a dog came. It was afraid."),
    ("I hate this. That is disgusting!", "I feel sad and angry. What a surprise."),
    ("What a wonderful surprise.", "You are a helpful assistant. I am happy."),
    ("How are you?", "I am afraid of the dog. The cat is happy."),
]


def _examples(lm, seed=0):
    out = []
    for k, (user, reply) in enumerate(DIALOGUES * 2):
        conversation = labelled([("user", user), ("assistant", reply)], seed=seed + k)
        out.append(encode_conversation(lm.tokenizer, conversation, len(SCHEMA.names)))
    return out


def test_batches_cover_each_epoch_once_and_are_reproducible():
    seen = [i for step in range(3) for i in batch_indices(12, 4, step, seed=5)]
    assert sorted(seen) == list(range(12))
    assert batch_indices(12, 4, 7, seed=5) == batch_indices(12, 4, 7, seed=5)


def test_inseparability_training_makes_wrong_emotions_hurt(tiny_lm_dirs):
    lm = tiny_lm(tiny_lm_dirs["llama"])
    examples = _examples(lm)
    config = SftTrainConfig(
        steps=60,
        batch_size=4,
        learning_rate=3e-3,
        emotion_learning_rate=1e-2,
        corrupt_fraction=0.5,
        warmup_steps=2,
    )
    record = train_lm(lm, examples, config, progress=False)
    assert record.steps == 60 and record.tokens > 0
    table = ablation_table(lm, None, examples)
    assert table["zeroed"] > table["true"] + 0.05
    assert table["disconnected"] > table["true"] + 0.05
    # The tiny model cannot tell another example's emotions from its own (that needs the link
    # between text and emotion that only a real model and data can learn), so shuffled and
    # noised are only required to be measured here; the README reports them on the real run.
    assert all(torch.isfinite(torch.tensor(table[c])) for c in ("shuffled", "noised"))


def test_plain_baseline_trains_the_same_adapters_without_emotions(tiny_lm_dirs):
    plain = tiny_lm(tiny_lm_dirs["llama"], conditioned=False)
    examples = _examples(plain)
    before = ablation_table(plain, None, examples)["true"]
    record = train_lm(
        plain, examples, SftTrainConfig(steps=10, learning_rate=3e-3), progress=False
    )
    after = ablation_table(plain, None, examples)["true"]
    assert after < before and all(c is None for c in record.corrupt_nll)


def test_interrupted_training_resumes_to_the_same_weights(tiny_lm_dirs, tmp_path, monkeypatch):
    config = SftTrainConfig(steps=8, batch_size=4, learning_rate=3e-3, checkpoint_every=4)
    straight = tiny_lm(tiny_lm_dirs["llama"])
    train_lm(straight, _examples(straight), config, progress=False)

    import maiga.sft.trainer as trainer

    interrupted = tiny_lm(tiny_lm_dirs["llama"])
    real_step = trainer._step_loss
    calls = {"n": 0}

    def crash_after_five(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 6:
            raise KeyboardInterrupt
        return real_step(*args, **kwargs)

    monkeypatch.setattr(trainer, "_step_loss", crash_after_five)
    with pytest.raises(KeyboardInterrupt):
        train_lm(
            interrupted, _examples(interrupted), config, checkpoint_dir=tmp_path, progress=False
        )
    monkeypatch.setattr(trainer, "_step_loss", real_step)
    resumed = tiny_lm(tiny_lm_dirs["llama"])
    record = train_lm(resumed, _examples(resumed), config, checkpoint_dir=tmp_path, progress=False)
    assert record.steps == 8 and len(record.loss) == 8
    a = dict(straight.named_parameters())
    for name, p in resumed.named_parameters():
        if p.requires_grad:
            torch.testing.assert_close(p, a[name], rtol=0, atol=1e-6)


def test_one_row_per_process_is_refused_with_inseparability(tiny_lm_dirs):
    lm = tiny_lm(tiny_lm_dirs["llama"])
    with pytest.raises(ValueError, match="at least 2"):
        train_lm(lm, _examples(lm), SftTrainConfig(steps=1, batch_size=1), progress=False)
