from __future__ import annotations

import numpy as np
import pytest
import torch

from maiga.errors import ModelNotFoundError
from maiga.network.encoder import load_sentence_encoder, resolve_encoder
from maiga.network.folder import load_network, save_network
from maiga.network.heads import EmotionHeads
from maiga.network.losses import masked_emotion_loss
from maiga.network.model import EmotionalNetwork
from maiga.network.train import TrainSet, fit
from maiga.network.train_config import TrainConfig
from maiga.schema import load_schema

SCHEMA = load_schema("essay8-va")
TEXTS = ["I love this so much!", "This is terrible and sad.", "What a surprise.",
         "I am scared of the dark.", "Disgusting behaviour.", "Fine, whatever.",
         "We won the game!", "He betrayed us."]


def make_network(encoder_dir, seed=0) -> EmotionalNetwork:
    torch.manual_seed(seed)
    encoder = load_sentence_encoder(encoder_dir)
    return EmotionalNetwork(encoder, SCHEMA, encoder_ref=str(encoder_dir), hidden=16)


def random_targets(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    targets = rng.uniform(0, 1, (n, len(SCHEMA))).astype(np.float32)
    targets[:, SCHEMA.index("valence")] = rng.uniform(-1, 1, n)
    targets[: n // 2, SCHEMA.index("arousal")] = np.nan  # a source that lacks arousal
    return targets


def test_heads_respect_each_range():
    torch.manual_seed(0)
    heads = EmotionHeads(4, list(SCHEMA.signed_mask), hidden=8)
    logits = torch.randn(256, len(SCHEMA)) * 30
    values = heads.activate(logits).detach().numpy()
    assert (values >= SCHEMA.lows).all() and (values <= SCHEMA.highs).all()
    assert (values[:, SCHEMA.index("valence")] < 0).any()  # signed dims can go negative


def test_masked_loss_ignores_unrated_cells():
    signed = torch.tensor([False, True])
    logits = torch.tensor([[0.3, -0.2], [1.0, 0.5]])
    targets = torch.tensor([[1.0, float("nan")], [float("nan"), -0.5]])
    loss = masked_emotion_loss(logits, targets, signed)
    bce = torch.nn.functional.binary_cross_entropy_with_logits(logits[0, 0], targets[0, 0])
    mse = (torch.tanh(logits[1, 1]) - targets[1, 1]) ** 2
    assert torch.isclose(loss, (bce + mse) / 2)
    # Changing an unrated cell's logit must not change the loss.
    logits2 = logits.clone()
    logits2[0, 1] = 99.0
    assert torch.isclose(masked_emotion_loss(logits2, targets, signed), loss)


def test_packaged_encoder_is_found_on_disk():
    path = resolve_encoder("sentence-transformers/all-MiniLM-L6-v2")
    assert path.endswith("model")


def test_missing_encoder_path_is_a_clear_error(tmp_path):
    with pytest.raises(ModelNotFoundError, match="does not exist"):
        resolve_encoder(str(tmp_path / "nope"))


def test_unknown_hub_id_offline_is_a_clear_error():
    with pytest.raises(ModelNotFoundError, match="could not be loaded"):
        load_sentence_encoder("no-such-org-xyz/no-such-model-xyz")


def test_save_load_round_trip_reproduces_outputs(tiny_encoder_dir, tmp_path):
    network = make_network(tiny_encoder_dir)
    before = network.predict(TEXTS)
    save_network(network, tmp_path / "net")
    loaded = load_network(tmp_path / "net")
    np.testing.assert_allclose(loaded.predict(TEXTS), before, rtol=0, atol=1e-6)
    assert loaded.schema == SCHEMA


def test_fine_tuned_encoder_is_saved_with_the_network(tiny_encoder_dir, tmp_path):
    network = make_network(tiny_encoder_dir)
    network.encoder_ref = None  # fine-tuned: the encoder belongs to the network
    before = network.predict(TEXTS)
    save_network(network, tmp_path / "net")
    assert (tmp_path / "net" / "encoder").is_dir()
    np.testing.assert_allclose(load_network(tmp_path / "net").predict(TEXTS), before, atol=1e-6)


def test_loading_a_folder_that_is_not_a_network(tmp_path):
    with pytest.raises(ModelNotFoundError, match="config.json"):
        load_network(tmp_path)


def _frozen_fit(encoder_dir, epochs, checkpoint_dir=None):
    network = make_network(encoder_dir)
    embeddings = network.embed(TEXTS)
    targets = random_targets(len(TEXTS))
    config = TrainConfig(epochs=epochs, batch_size=3, hidden=16, patience=100, seed=1)
    fit(network, TrainSet(TEXTS, targets, embeddings), TrainSet(TEXTS, targets, embeddings),
        config, checkpoint_dir, progress=False)
    return network.values_from_embeddings(embeddings)


def test_frozen_training_learns_and_is_deterministic(tiny_encoder_dir):
    first = _frozen_fit(tiny_encoder_dir, epochs=30)
    second = _frozen_fit(tiny_encoder_dir, epochs=30)
    np.testing.assert_array_equal(first, second)
    targets = random_targets(len(TEXTS))
    untrained = _frozen_fit(tiny_encoder_dir, epochs=1)
    observed = ~np.isnan(targets)
    err = np.abs(first - targets)[observed].mean()
    assert err < np.abs(untrained - targets)[observed].mean()


def test_interrupted_training_resumes_to_the_same_result(tiny_encoder_dir, tmp_path, monkeypatch):
    import maiga.network.train as train_module

    uninterrupted = _frozen_fit(tiny_encoder_dir, epochs=6)
    ckpt = tmp_path / "ckpt"
    real_evaluate = train_module.evaluate_loss
    calls = {"n": 0}

    def interrupt_in_epoch_four(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt
        return real_evaluate(*args, **kwargs)

    monkeypatch.setattr(train_module, "evaluate_loss", interrupt_in_epoch_four)
    with pytest.raises(KeyboardInterrupt):
        _frozen_fit(tiny_encoder_dir, epochs=6, checkpoint_dir=ckpt)
    assert torch.load(ckpt / "last.pt", weights_only=False)["state"]["epoch"] == 3

    monkeypatch.setattr(train_module, "evaluate_loss", real_evaluate)
    resumed = _frozen_fit(tiny_encoder_dir, epochs=6, checkpoint_dir=ckpt)
    np.testing.assert_allclose(resumed, uninterrupted, atol=1e-6)


def test_finetune_mode_moves_the_encoder(tiny_encoder_dir):
    network = make_network(tiny_encoder_dir)
    before = [p.detach().clone() for p in network.encoder.parameters()]
    targets = random_targets(len(TEXTS))
    config = TrainConfig(mode="finetune", epochs=2, batch_size=4, hidden=16, seed=0)
    fit(network, TrainSet(TEXTS, targets), TrainSet(TEXTS, targets), config, progress=False)
    after = list(network.encoder.parameters())
    assert any(not torch.equal(b, a) for b, a in zip(before, after))


def test_score_gives_each_thought_and_the_whole(tiny_encoder_dir):
    network = make_network(tiny_encoder_dir)
    result = network.score("I won! Then I lost everything.")
    assert [t.text for t in result.thoughts] == ["I won!", "Then I lost everything."]
    assert set(result.overall) == set(SCHEMA.names)
    lengths = np.array([6, 23])
    manual = sum(t.values["fear"] * n for t, n in zip(result.thoughts, lengths)) / lengths.sum()
    assert result.overall["fear"] == pytest.approx(manual, abs=1e-5)


def test_each_dimension_weighs_the_same_however_many_cells_it_has():
    signed = torch.tensor([False, False])
    logits = torch.zeros(4, 2)
    # Dimension 0 is rated on four items, dimension 1 on one; both have the same mean loss.
    targets = torch.tensor([[1.0, 1.0], [1.0, float("nan")], [1.0, float("nan")],
                            [1.0, float("nan")]])
    per_cell = torch.nn.functional.binary_cross_entropy_with_logits(torch.tensor(0.0),
                                                                    torch.tensor(1.0))
    assert torch.isclose(masked_emotion_loss(logits, targets, signed), per_cell)
    weights = torch.tensor([1.0, 3.0])
    logits[0, 1] = 2.0  # only dimension 1's loss changes
    loss1 = torch.nn.functional.binary_cross_entropy_with_logits(torch.tensor(2.0),
                                                                 torch.tensor(1.0))
    expected = (per_cell * 1 + loss1 * 3) / 4
    assert torch.isclose(masked_emotion_loss(logits, targets, signed, weights), expected)


def test_regression_dimensions_are_weighted_by_inverse_variance():
    from maiga.network.losses import balanced_dim_weights

    targets = np.array([[0.0, 0.1], [1.0, -0.1], [np.nan, 0.3]], dtype=np.float32)
    weights = balanced_dim_weights(targets, np.array([False, True]))
    assert weights[0] == 1.0
    assert weights[1] == pytest.approx(1 / np.var([0.1, -0.1, 0.3]), rel=1e-5)


def test_length_grouped_batches_cover_every_item_once_and_resume_identically():
    from maiga.network.train import _epoch_batches

    rng = np.random.default_rng(0)
    texts = ["x" * int(n) for n in rng.integers(1, 200, 1000)]
    data = TrainSet(texts, np.zeros((1000, 1), dtype=np.float32))
    config = TrainConfig(batch_size=10, seed=3)
    batches = _epoch_batches(data, config, epoch=2, group_by_length=True)
    assert sorted(np.concatenate(batches).tolist()) == list(range(1000))
    again = _epoch_batches(data, config, epoch=2, group_by_length=True)
    assert all(np.array_equal(a, b) for a, b in zip(batches, again))
    # Inside a batch, lengths are close: far less padding than random batches would need.
    lengths = np.array([len(t) for t in texts])
    spread = np.mean([np.ptp(lengths[b]) for b in batches])
    random_batches = np.array_split(rng.permutation(1000), 100)
    random_spread = np.mean([np.ptp(lengths[b]) for b in random_batches])
    assert spread < random_spread / 5


def test_finetune_keeps_the_word_embeddings_fixed_by_default(tiny_encoder_dir):
    network = make_network(tiny_encoder_dir)
    table = next(m for m in network.encoder.modules() if hasattr(m, "word_embeddings"))
    before = table.word_embeddings.weight.detach().clone()
    targets = random_targets(len(TEXTS))
    config = TrainConfig(mode="finetune", epochs=1, batch_size=4, hidden=16)
    fit(network, TrainSet(TEXTS, targets), TrainSet(TEXTS, targets), config, progress=False)
    assert torch.equal(table.word_embeddings.weight, before)
