"""The emotional network: text -> thoughts -> embeddings -> emotion values.

The encoder is a sentence-transformers model; the heads are :class:`EmotionHeads`. The folder
format that stores a trained network lives in :mod:`maiga.network.folder`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from maiga.network.heads import EmotionHeads
from maiga.schema import EmotionSchema
from maiga.thoughts import SegmenterConfig, Thought, split_thoughts
from maiga.thoughts.segment import check_text


@dataclass
class ThoughtEmotions:
    """Emotion values of one thought, with the character span it covers."""

    text: str
    start: int
    end: int
    values: dict[str, float]


@dataclass
class TextEmotions:
    """Emotion values per thought and for the whole text."""

    text: str
    thoughts: list[ThoughtEmotions]
    overall: dict[str, float]
    meta: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "text": self.text,
            "overall": self.overall,
            "thoughts": [t.__dict__ for t in self.thoughts],
        }


class EmotionalNetwork(nn.Module):
    """Sentence encoder plus emotion heads.

    Args:
        encoder: a ``SentenceTransformer``.
        schema: the emotion schema; its order is the output order.
        heads: the trained heads (built fresh if None).
        encoder_ref: how to find the encoder again when it is not saved with the network
            (a packaged name, hub id or path).
        segmenter: how texts are cut into thoughts.
    """

    def __init__(
        self,
        encoder: nn.Module,
        schema: EmotionSchema,
        heads: EmotionHeads | None = None,
        encoder_ref: str | None = None,
        segmenter: SegmenterConfig | None = None,
        hidden: int = 256,
        dropout: float = 0.1,
    ):
        super().__init__()
        self.encoder = encoder
        self.schema = schema
        self.encoder_ref = encoder_ref
        self.segmenter = segmenter or SegmenterConfig()
        dim = _embedding_dimension(encoder)
        self.heads = heads or EmotionHeads(dim, list(schema.signed_mask), hidden, dropout)

    @property
    def embedding_dim(self) -> int:
        return _embedding_dimension(self.encoder)

    # ---- embeddings and values -------------------------------------------------------------

    def embed(self, texts: list[str], batch_size: int = 128, progress: bool = False) -> np.ndarray:
        """Frozen-encoder embeddings, (n, embedding_dim) float32."""
        if not texts:
            return np.zeros((0, self.embedding_dim), dtype=np.float32)
        with torch.inference_mode():
            out = self.encoder.encode(
                list(texts), batch_size=batch_size, show_progress_bar=progress,
                convert_to_numpy=True,
            )
        return out.astype(np.float32, copy=False)

    def values_from_embeddings(self, embeddings: np.ndarray) -> np.ndarray:
        """(n, embedding_dim) -> (n, n_dims) values in range."""
        self.heads.eval()
        with torch.inference_mode():
            logits = self.heads(torch.as_tensor(embeddings, dtype=torch.float32))
            return self.heads.activate(logits).numpy()

    def predict(
        self, texts: list[str], batch_size: int = 128, progress: bool = False
    ) -> np.ndarray:
        """Emotion values of each text taken as one unit, (n, n_dims)."""
        return self.values_from_embeddings(self.embed(texts, batch_size, progress))

    def forward_features(self, features: dict[str, torch.Tensor]) -> torch.Tensor:
        """Tokenised batch -> pre-activations; used when the encoder is fine-tuned."""
        embeddings = self.encoder(features)["sentence_embedding"]
        return self.heads(embeddings)

    # ---- thoughts -----------------------------------------------------------------------

    def score(self, text: str) -> TextEmotions:
        """Emotions of each thought of ``text`` and of the text as a whole."""
        return self.score_many([text])[0]

    def score_many(self, texts: list[str], batch_size: int = 128) -> list[TextEmotions]:
        """Score many texts; all their thoughts go through the encoder in shared batches."""
        if isinstance(texts, str):
            raise TypeError("score_many takes a list of texts; for one text use score(text).")
        for i, text in enumerate(texts):
            check_text(text, self.segmenter.max_chars, what=f"text #{i + 1}")
        split = [split_thoughts(t, self.segmenter) for t in texts]
        flat = [th.text for ths in split for th in ths]
        values = self.predict(flat, batch_size)

        results, offset = [], 0
        for text, thoughts in zip(texts, split):
            rows = values[offset : offset + len(thoughts)]
            offset += len(thoughts)
            results.append(self._text_emotions(text, thoughts, rows))
        return results

    def _text_emotions(self, text: str, thoughts: list[Thought], rows: np.ndarray) -> TextEmotions:
        names = self.schema.names
        per_thought = [
            ThoughtEmotions(th.text, th.start, th.end, _as_dict(names, row))
            for th, row in zip(thoughts, rows)
        ]
        # The whole text: a length-weighted mean of its thoughts. Running the encoder on the
        # whole text again would double the cost and silently truncate long texts.
        weights = np.array([max(th.end - th.start, 1) for th in thoughts], dtype=np.float64)
        overall = (rows * weights[:, None]).sum(0) / weights.sum()
        return TextEmotions(text, per_thought, _as_dict(names, overall))


def _as_dict(names: list[str], row: np.ndarray) -> dict[str, float]:
    return {n: round(float(v), 6) for n, v in zip(names, row)}


def _embedding_dimension(encoder: nn.Module) -> int:
    # sentence-transformers 5.x renamed the method; accept both spellings.
    method = getattr(encoder, "get_embedding_dimension", None) or getattr(
        encoder, "get_sentence_embedding_dimension"
    )
    return int(method())
