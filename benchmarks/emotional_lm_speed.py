"""Emotional LM speed and memory next to the plain model, side by side in one run.

Generation (same prompts, same number of new tokens, greedy):
  * plain base model through ``transformers`` ``generate`` (the reference),
  * the emotional LM with the emotional loop (each completed thought is scored and fed on),
  * the emotional LM without re-scoring (prompt emotions kept for the whole response).
Training (same batches, same steps): the emotional LM with the inseparability term against a
plain LoRA fine-tune. Rounds alternate between the contenders so machine noise hits both alike.
Peak memory (resident set size) is measured for each contender in a fresh process.

    python benchmarks/emotional_lm_speed.py [--model RUN/lm/emotional] [--network RUN/model]
        [--new-tokens 48] [--prompts 4] [--train-steps 6] [--rounds 2] [--skip-memory]

Without --model a fresh emotional LM (emotion modules given random weights, so they do real
work) is built on the packaged SmolLM2; without --network a fresh network on the packaged
MiniLM is used. Speed does not depend on trained weights.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import warnings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
warnings.filterwarnings("ignore")

PROMPTS = [
    "Write a short note to a friend who just lost their job.",
    "Explain why the sky is blue to a ten-year-old.",
    "My neighbour keeps shouting at my kids. What should I do?",
    "Give me three tips for a job interview.",
    "Describe a rainy afternoon in a small town.",
    "What is the best way to apologise to a colleague?",
]


def load_network(args):
    import torch

    from maiga.network.encoder import load_sentence_encoder
    from maiga.network.folder import load_network as load_saved
    from maiga.network.model import EmotionalNetwork
    from maiga.schema import load_schema

    if args.network:
        return load_saved(args.network)
    torch.manual_seed(0)
    return EmotionalNetwork(load_sentence_encoder("all-MiniLM-L6-v2"), load_schema("essay8"))


def load_models(args):
    import torch

    from maiga.lm.base import DEFAULT_BASE
    from maiga.lm.folder import load_emotional_lm
    from maiga.lm.model import EmotionalLMSpec, build_emotional_lm
    from maiga.network.encoder import load_sentence_encoder
    from maiga.network.folder import load_network
    from maiga.network.model import EmotionalNetwork

    if args.network:
        network = load_network(args.network)
    else:
        from maiga.schema import load_schema

        torch.manual_seed(0)
        network = EmotionalNetwork(
            load_sentence_encoder("all-MiniLM-L6-v2"), load_schema("essay8")
        )
    if args.model:
        lm = load_emotional_lm(args.model)
    else:
        lm = build_emotional_lm(EmotionalLMSpec(base=DEFAULT_BASE, schema=network.schema))
        generator = torch.Generator().manual_seed(0)
        with torch.no_grad():
            for p in lm.conditioner.parameters():
                p.copy_(torch.randn(p.shape, generator=generator) * 0.02)
    return lm, network


# ---- generation -----------------------------------------------------------------------------


def plain_generate(lm, prompts, new_tokens):
    import torch

    base = lm.model.get_base_model()
    tokens, seconds = 0, 0.0
    with lm.model.disable_adapter(), lm.disconnected():
        for prompt in prompts:
            ids = lm.tokenizer.apply_chat_template(
                [{"role": "user", "content": prompt}],
                add_generation_prompt=True,
                return_tensors="pt",
                return_dict=True,
            )
            start = time.perf_counter()
            with torch.inference_mode():
                out = base.generate(
                    **ids,
                    max_new_tokens=new_tokens,
                    min_new_tokens=new_tokens,
                    do_sample=False,
                    pad_token_id=lm.tokenizer.pad_token_id,
                )
            seconds += time.perf_counter() - start
            tokens += out.shape[1] - ids["input_ids"].shape[1]
    return tokens / seconds


def emotional_generate(lm, network, prompts, new_tokens, rescore):
    from maiga.lm.generate import EmotionalChat, GenerationSettings

    chat = EmotionalChat(
        lm,
        network,
        GenerationSettings(max_new_tokens=new_tokens, rescore=rescore, stop_at_end=False),
    )
    tokens, seconds, scored = 0, 0.0, 0
    for prompt in prompts:
        # labelling the prompt is part of answering it, so it is timed too
        start = time.perf_counter()
        response = chat.respond([{"role": "user", "content": prompt}])
        seconds += time.perf_counter() - start
        tokens += response.new_tokens
        scored += response.scored_during_generation
    return tokens / seconds, scored


# ---- training -------------------------------------------------------------------------------


def training_examples(lm, n=32):
    import numpy as np

    from maiga.lm.alignment import encode_conversation
    from maiga.thoughts import split_thoughts

    rng = np.random.default_rng(0)
    examples = []
    for k in range(n):
        prompt = PROMPTS[k % len(PROMPTS)]
        reply = (
            "Thank you for asking. " * (1 + k % 3)
        ) + "Here is what I think. It depends on you."
        messages = []
        for role, content in (("user", prompt), ("assistant", reply)):
            thoughts = [
                {"start": t.start, "end": t.end, "values": rng.uniform(0, 1, lm.n_dims).tolist()}
                for t in split_thoughts(content)
            ]
            messages.append({"role": role, "content": content, "thoughts": thoughts})
        examples.append(encode_conversation(lm.tokenizer, messages, lm.n_dims))
    return examples


def fresh_lm(network):
    """A new emotional LM for timing training (a loaded one has frozen adapters)."""
    import torch

    from maiga.lm.base import DEFAULT_BASE
    from maiga.lm.model import EmotionalLMSpec, build_emotional_lm

    lm = build_emotional_lm(EmotionalLMSpec(base=DEFAULT_BASE, schema=network.schema))
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in lm.conditioner.parameters():
            p.copy_(torch.randn(p.shape, generator=generator) * 0.02)
    return lm


def train_throughput(lm, examples, steps, seed):
    from maiga.sft.train_config import SftTrainConfig
    from maiga.sft.trainer import train_lm

    record = train_lm(
        lm, examples, SftTrainConfig(steps=steps, batch_size=4, seed=seed), progress=False
    )
    return record.tokens_per_second


# ---- memory (one fresh process per contender) ----------------------------------------------


def worker(mode: str, args) -> None:
    if mode.startswith("train"):
        network = load_network(args)
        lm = (
            fresh_lm(network)
            if mode == "train-emotional"
            else _without_conditioner(fresh_lm(network))
        )
    else:
        lm, network = load_models(args)
    import gc

    gc.collect()
    sampler = _RssSampler()
    loaded = sampler.rss()
    sampler.start()
    if mode == "generate-plain":
        plain_generate(lm, PROMPTS[:2], args.new_tokens)
    elif mode == "generate-emotional":
        emotional_generate(lm, network, PROMPTS[:2], args.new_tokens, rescore=True)
    else:
        train_throughput(lm, training_examples(lm), 2, 0)
    peak = sampler.stop()
    print(json.dumps({"mode": mode, "after_load_mib": round(loaded), "peak_mib": round(peak)}))


class _RssSampler:
    """Highest resident set size while the work runs (ru_maxrss would report loading's peak)."""

    def __init__(self, every: float = 0.005):
        import threading

        import psutil

        self._process, self._every, self._peak = psutil.Process(), every, 0.0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def rss(self) -> float:
        return self._process.memory_info().rss / 2**20

    def _run(self) -> None:
        while not self._done.is_set():
            self._peak = max(self._peak, self.rss())
            self._done.wait(self._every)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> float:
        self._done.set()
        self._thread.join()
        return max(self._peak, self.rss())


def memory(args) -> list[dict]:
    rows = []
    for mode in ("generate-plain", "generate-emotional", "train-plain", "train-emotional"):
        cmd = [sys.executable, __file__, "--worker", mode, "--new-tokens", str(args.new_tokens)]
        for flag in ("model", "network"):
            if getattr(args, flag):
                cmd += [f"--{flag}", getattr(args, flag)]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        rows.append(json.loads(out.strip().splitlines()[-1]))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model")
    parser.add_argument("--network")
    parser.add_argument("--new-tokens", type=int, default=48)
    parser.add_argument("--prompts", type=int, default=4)
    parser.add_argument("--train-steps", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--worker")
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args)
        return

    import torch

    print(f"torch threads: {torch.get_num_threads()}")
    lm, network = load_models(args)
    prompts = PROMPTS[: args.prompts]
    emotional_generate(lm, network, prompts[:1], 4, True)  # warm-up
    plain, loop, fixed, scored = [], [], [], 0
    for _ in range(args.rounds):
        plain.append(plain_generate(lm, prompts, args.new_tokens))
        speed, n = emotional_generate(lm, network, prompts, args.new_tokens, rescore=True)
        loop.append(speed)
        scored += n
        fixed.append(emotional_generate(lm, network, prompts, args.new_tokens, rescore=False)[0])
    p, l, f = (statistics.median(v) for v in (plain, loop, fixed))
    print(
        f"generation, {len(prompts)} prompts x {args.new_tokens} new tokens, {args.rounds} "
        "rounds (median):"
    )
    print(f"  plain base model (transformers generate): {p:7.2f} tokens/s")
    print(
        f"  emotional LM, emotional loop:             {l:7.2f} tokens/s  ratio {l / p:.3f} "
        "(target >= 0.70)"
        f"  [{scored} thoughts scored during generation]"
    )
    print(
        f"  emotional LM, no re-scoring:              {f:7.2f} tokens/s  ratio {f / p:.3f} "
        "(target >= 0.95)"
    )

    del lm
    lm = fresh_lm(network)
    examples = training_examples(lm)
    emotional_tps, plain_tps = [], []
    for r in range(args.rounds):
        emotional_tps.append(train_throughput(lm, examples, args.train_steps, r))
        plain_twin = _without_conditioner(lm)
        plain_tps.append(train_throughput(plain_twin, examples, args.train_steps, r))
        _restore_conditioner(lm)
    e, q = statistics.median(emotional_tps), statistics.median(plain_tps)
    print(f"training, batch 4, {args.train_steps} steps x {args.rounds} rounds (median):")
    print(f"  plain LoRA:                          {q:7.1f} tokens/s")
    print(
        f"  emotional LM with inseparability:    {e:7.1f} tokens/s  ratio {e / q:.3f} (target "
        ">= 0.85)"
    )

    if not args.skip_memory:
        print(
            "resident memory, one fresh process each (MiB): after loading, and the peak while "
            "working"
        )
        for row in memory(args):
            print(
                f"  {row['mode']:<20} after load {row['after_load_mib']:6d}   peak "
                f"{row['peak_mib']:6d}"
            )


_saved = {}


def _without_conditioner(lm):
    """The same adapters trained without emotions: the plain LoRA twin, for timing."""
    _saved["conditioner"] = lm.conditioner
    lm.conditioner.detach()  # no hooks at all: nothing of the emotional path is left to time
    lm.conditioner = None
    return lm


def _restore_conditioner(lm):
    from maiga.lm.families import decoder_norms, family_layout

    base = lm.model.get_base_model()
    lm.conditioner = _saved.pop("conditioner")
    lm.conditioner.attach(decoder_norms(base, family_layout(base)))


if __name__ == "__main__":
    main()
