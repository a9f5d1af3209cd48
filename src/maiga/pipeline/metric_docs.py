"""What every key of metrics.json means. The README's table is checked against this by a test.

Keys are patterns: ``{source}`` is a dataset (goemotions, emobank, snow2008), ``{dim}`` a schema
dimension, ``{label}`` an Ekman label, ``{variant}`` an aggregation variant.
"""

from __future__ import annotations

import re

METRIC_DOCS: dict[str, str] = {
    "{source}.test.n_items": "Test items of the dataset that were scored.",
    "{source}.test.{dim}.pearson":
        "Pearson r between the network and the aggregated human value on test items.",
    "{source}.test.{dim}.mae": "Mean absolute error, network vs aggregated human value (test).",
    "{source}.test.{dim}.n": "Test items rated on this dimension.",
    "{source}.test.{dim}.alpha":
        "Krippendorff's alpha among the annotators of the test items (interval, or nominal "
        "for 0/1 labels).",
    "{source}.test.{dim}.human_ceiling_r":
        "How well one annotator predicts the mean of the others (pooled Pearson r): the human "
        "ceiling to hold the network's pearson against.",
    "{source}.test.{dim}.human_ceiling_mae": "The same human ceiling as a mean absolute error.",
    "{source}.test.n_items_rated": "Test items with ratings used for agreement statistics.",
    "{source}.test.mean_ratings_per_item": "Average number of ratings per test item.",
    "{source}.test.agreement_available":
        "0 when the release has only aggregated labels, so no agreement can be computed.",
    "goemotions.ekman.macro_f1":
        "Macro-F1 over Ekman's six emotions plus neutral on GoEmotions test, thresholds tuned "
        "on dev (the GoEmotions paper's BERT-base: 0.64).",
    "goemotions.ekman.macro_f1_emotions_only": "The same macro-F1 without the neutral label.",
    "goemotions.ekman.{label}.f1": "F1 of one Ekman label on GoEmotions test.",
    "goemotions.ekman.{label}.threshold": "Decision threshold for that label, tuned on dev.",
    "snow2008.heldout.n_items": "Snow 2008 headlines outside the training split.",
    "snow2008.heldout.{dim}.network_r_gold":
        "Pearson r of the network with the SemEval expert gold on held-out headlines.",
    "snow2008.heldout.{dim}.single_worker_r_gold":
        "Average over workers of one worker's Pearson r with the gold (same headlines).",
    "snow2008.cv.{variant}.{dim}.network_r_gold":
        "k-fold cross-validated r of the network with the expert gold when Snow targets are "
        "aggregated with this variant.",
    "snow2008.cv.{variant}.mean_network_r_gold": "Mean of the above over dimensions.",
    "snow2008.cv.mean_single_worker_r_gold":
        "Average single worker's r with gold, averaged over dimensions (all 100 headlines).",
    "train.best_epoch": "Epoch whose dev loss was lowest; its weights are kept.",
    "train.best_dev_loss": "Masked dev loss of the kept weights.",
    "train.n_train_items": "Items the network was trained on.",
    "run.seconds": "Wall-clock seconds of the whole run.",
    "lm.nll.{condition}":
        "Mean response NLL per token on held-out mixture conversations: the emotional LM with "
        "true, zeroed, shuffled (another conversation's), noised or disconnected (emotion "
        "modules off, adapters kept) emotions; plain_lora is the plain LoRA fine-tune on the same "
        "data, steps and seed; base is the untuned base model.",
    "lm.ratio.true_vs_plain":
        "Emotional LM NLL with true emotions over the plain fine-tune's (target: at most 1.05).",
    "lm.ratio.{condition}":
        "NLL under a corruption over NLL with true emotions (target for zeroed, shuffled, "
        "disconnected: at least 1.5).",
    "lm.train.{model}.tokens_per_second": "SFT throughput (padded-out tokens excluded).",
    "lm.train.{model}.seconds": "Seconds spent in SFT steps (model loading excluded).",
    "lm.train.throughput_ratio":
        "Emotional LM SFT tokens/s over the plain LoRA's (target: at least 0.85).",
    "lm.data.n_train": "Mixture conversations the LMs were trained on.",
    "lm.data.n_heldout": "Held-out mixture conversations the NLL figures are measured on.",
    "lm.data.n_dropped": "Mixture conversations left out (too long, or no assistant tokens).",
    "lm.label.thoughts": "Thoughts in the labelled mixture.",
    "lm.label.thoughts_scored": "Distinct thought texts the emotional network scored.",
    "lm.seconds.{stage}": "Wall-clock seconds of the mixture, label and sft stages.",
}

_PLACEHOLDER = re.compile(r"\{[a-z]+\}")


def _pattern(key: str) -> re.Pattern:
    parts = _PLACEHOLDER.split(key)
    return re.compile("^" + r"[^.]+".join(re.escape(p) for p in parts) + "$")


_COMPILED = [(_pattern(k), k, doc) for k, doc in METRIC_DOCS.items()]


def doc_for(key: str) -> tuple[str, str] | None:
    """(pattern, meaning) documenting a concrete metric key, or None if undocumented."""
    for regex, pattern, doc in _COMPILED:
        if regex.match(key):
            return pattern, doc
    return None
