"""Scoring throughput: maiga's emotional network vs a plain transformers pipeline.

Both run the same encoder weights (all-MiniLM-L6-v2 by default) on the same short texts, side
by side in one process, alternating rounds so that a noisy machine affects both alike. maiga's
figure includes everything `score_many` does: thought segmentation, encoding, the heads and
building per-thought results. The baseline is `transformers.pipeline("text-classification")`
on a sequence-classification model made from the same encoder (its head is random: only the
speed is compared).

    python benchmarks/scoring_throughput.py [--model runs/quick/model] [--n 2000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import warnings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
warnings.filterwarnings("ignore")


def short_texts(n: int) -> list[str]:
    """Short one-thought texts: GoEmotions test comments of at most 12 words, or synthetic."""
    from maiga.data.paths import dataset_dir

    try:
        import pandas as pd

        path = dataset_dir("goemotions", download=False) / "original" / "test.tsv"
        frame = pd.read_csv(path, sep="\t", header=None, quoting=3, dtype=str)
        texts = [t for t in frame[0].dropna() if len(t.split()) <= 12]
    except Exception as exc:  # a benchmark still runs without the data, and says so
        print(f"(GoEmotions not available: {exc}; using synthetic texts)")
        texts = [f"This is short sentence number {i} and it feels fine." for i in range(n)]
    return (texts * (n // len(texts) + 1))[:n]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="trained network folder (default: fresh heads)")
    parser.add_argument("--encoder", default="all-MiniLM-L6-v2")
    parser.add_argument("--n", type=int, default=2000, help="texts per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128)
    args = parser.parse_args()

    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline

    from maiga.network.encoder import load_sentence_encoder, resolve_encoder
    from maiga.network.folder import load_network
    from maiga.network.model import EmotionalNetwork
    from maiga.schema import load_schema

    if args.model:
        network = load_network(args.model)
    else:
        encoder = load_sentence_encoder(args.encoder)
        network = EmotionalNetwork(encoder, load_schema("essay8-va"), encoder_ref=args.encoder)
    path = resolve_encoder(args.encoder)
    tokenizer = AutoTokenizer.from_pretrained(path)
    classifier = AutoModelForSequenceClassification.from_pretrained(path, num_labels=10)
    baseline = pipeline("text-classification", model=classifier, tokenizer=tokenizer,
                        device="cpu", top_k=None)

    texts = short_texts(args.n)
    n_thoughts = sum(len(r.thoughts) for r in network.score_many(texts[:200]))
    print(f"{len(texts)} texts, mean {statistics.mean(len(t.split()) for t in texts):.1f} words;"
          f" torch threads {torch.get_num_threads()}; thoughts per text in a sample: "
          f"{n_thoughts / 200:.2f}")

    maiga_rates, maiga_text_rates, pipe_rates = [], [], []
    for _ in range(args.rounds):
        start = time.perf_counter()
        results = network.score_many(texts, batch_size=args.batch_size)
        elapsed = time.perf_counter() - start
        maiga_rates.append(sum(len(r.thoughts) for r in results) / elapsed)
        maiga_text_rates.append(len(texts) / elapsed)

        start = time.perf_counter()
        with torch.inference_mode():
            baseline(texts, batch_size=args.batch_size, truncation=True)
        pipe_rates.append(len(texts) / (time.perf_counter() - start))

    m, p = statistics.median(maiga_rates), statistics.median(pipe_rates)
    print(f"maiga score_many:            {m:7.1f} thoughts/s  (rounds: "
          + ", ".join(f"{r:.0f}" for r in maiga_rates) + ")")
    t = statistics.median(maiga_text_rates)
    print(f"maiga score_many:            {t:7.1f} texts/s")
    print(f"transformers pipeline:       {p:7.1f} texts/s     (rounds: "
          + ", ".join(f"{r:.0f}" for r in pipe_rates) + ")")
    print(f"ratio maiga / pipeline, texts/s: {t / p:7.2f} (maiga also splits and scores thoughts)")
    print(f"target 500 thoughts/s:       {'met' if m >= 500 else 'NOT met'}")


if __name__ == "__main__":
    main()
