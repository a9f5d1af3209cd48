"""GoEmotions in Ekman's grouping: macro-F1 with per-label thresholds tuned on dev.

Reference: Demszky et al. (2020), "GoEmotions: A Dataset of Fine-Grained Emotions", ACL, which
reports macro-F1 0.64 for BERT-base on the Ekman taxonomy (six emotions plus neutral).

The network predicts schema dimensions, not Ekman labels. An Ekman label's score is the maximum
of the schema dimensions its GoEmotions labels were mapped to (anger = max(anger, contempt) for
the default mapping), and neutral's score is one minus the largest emotion score.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import f1_score

NEUTRAL = "neutral"
THRESHOLDS = np.round(np.arange(0.02, 0.99, 0.02), 2)


def ekman_groups(
    ekman_mapping: dict[str, list[str]], label_to_dimension: dict[str, str], names: list[str]
) -> dict[str, list[int]]:
    """Ekman label -> indices of the schema dimensions that its fine labels map onto."""
    groups: dict[str, list[int]] = {}
    for ekman, fine_labels in ekman_mapping.items():
        dims = {label_to_dimension[f] for f in fine_labels if f in label_to_dimension}
        indices = sorted(names.index(d) for d in dims if d in names)
        if indices:
            groups[ekman] = indices
    return groups


def ekman_scores(values: np.ndarray, groups: dict[str, list[int]]) -> tuple[np.ndarray, list[str]]:
    """(n, n_dims) schema values -> (n, n_groups + 1) Ekman scores, neutral last."""
    labels = list(groups)
    scores = np.stack([values[:, groups[g]].max(axis=1) for g in labels], axis=1)
    neutral = 1.0 - scores.max(axis=1, keepdims=True)
    return np.concatenate([scores, neutral], axis=1), labels + [NEUTRAL]


def tune_thresholds(scores: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Per label, the threshold in THRESHOLDS that maximises F1 on (dev) data."""
    best = np.full(scores.shape[1], 0.5)
    for j in range(scores.shape[1]):
        f1s = [f1_score(truth[:, j], scores[:, j] >= t, zero_division=0) for t in THRESHOLDS]
        best[j] = THRESHOLDS[int(np.argmax(f1s))]
    return best


def ekman_metrics(
    dev_scores: np.ndarray,
    dev_truth: np.ndarray,
    test_scores: np.ndarray,
    test_truth: np.ndarray,
    labels: list[str],
    prefix: str = "goemotions.ekman",
) -> dict[str, float]:
    """Macro-F1 over all labels and over the emotions alone, plus per-label F1 and thresholds.

    Inputs: scores (n, n_labels) from :func:`ekman_scores`; truth (n, n_labels) 0/1 in the same
    label order; thresholds are tuned on dev and applied to test.
    """
    thresholds = tune_thresholds(dev_scores, dev_truth)
    predicted = test_scores >= thresholds
    per_label = f1_score(test_truth, predicted, average=None, zero_division=0)
    emotions = [i for i, lab in enumerate(labels) if lab != NEUTRAL]
    out = {
        f"{prefix}.macro_f1": float(per_label.mean()),
        f"{prefix}.macro_f1_emotions_only": float(per_label[emotions].mean()),
    }
    for j, label in enumerate(labels):
        out[f"{prefix}.{label}.f1"] = float(per_label[j])
        out[f"{prefix}.{label}.threshold"] = float(thresholds[j])
    return out
