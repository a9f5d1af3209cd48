"""Quality and wall time of `maiga run` for one profile, against the figures issue #2 sets.

Runs the profile into a fresh folder (or reads an existing run with --metrics) and prints:
GoEmotions Ekman macro-F1 (target 0.52 frozen / 0.62 fine-tuned; the GoEmotions paper's BERT-base
0.64), EmoBank valence Pearson r (target 0.70), the network against the human ceiling, and the
Snow 2008 comparison with the expert gold under every aggregation variant.

    python benchmarks/emotional_network_quality.py --profile quick --out runs/bench-quick
    python benchmarks/emotional_network_quality.py --metrics runs/quick/metrics.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

TARGET_F1 = {"frozen": 0.52, "finetune": 0.62}
PAPER_F1 = 0.64


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--out", type=Path, help="fresh run folder (must not exist)")
    parser.add_argument("--metrics", type=Path, help="read this metrics.json instead of running")
    args = parser.parse_args()

    if args.metrics is None:
        if args.out is None or args.out.exists():
            sys.exit("--out must name a folder that does not exist yet (a cold run is timed).")
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "maiga.cli.main", "-q", "run", "--profile",
                        args.profile, "--out", str(args.out)], check=True,
                       env={**os.environ, "HF_HUB_OFFLINE": "1"})
        print(f"maiga run --profile {args.profile}: {time.perf_counter() - start:.0f} s wall")
        args.metrics = args.out / "metrics.json"
    metrics = json.loads(args.metrics.read_text())
    config_path = args.metrics.parent / "config.yaml"
    mode = "finetune" if "mode: finetune" in config_path.read_text() else "frozen"
    report(metrics, mode)


def report(m: dict, mode: str) -> None:
    f1 = m.get("goemotions.ekman.macro_f1")
    if f1 is not None:
        target = TARGET_F1[mode]
        print(f"GoEmotions Ekman macro-F1 (test, {mode}): {f1:.3f}  target {target:.2f} "
              f"{'met' if f1 >= target else 'NOT met'}; paper BERT-base {PAPER_F1:.2f} "
              f"({f1 - PAPER_F1:+.3f}); without neutral "
              f"{m['goemotions.ekman.macro_f1_emotions_only']:.3f}")
    r = m.get("emobank.test.valence.pearson")
    if r is not None:
        ceiling = m.get("emobank.test.valence.human_ceiling_r", float("nan"))
        print(f"EmoBank valence Pearson r (test): {r:.3f}  target 0.70 "
              f"{'met' if r >= 0.70 else 'NOT met'}; one annotator vs the others {ceiling:.3f}")
    variants = sorted({k.split(".")[2] for k in m if k.startswith("snow2008.cv.")
                       and k.endswith(".mean_network_r_gold")})
    if variants:
        dims = sorted({k.split(".")[3] for k in m if k.startswith("snow2008.cv.mean.")
                       and k.endswith(".network_r_gold") and "mean_network" not in k})
        print("\nSnow 2008, 5-fold cross-validated Pearson r with the expert gold")
        print(f"{'variant':18s}" + "".join(f"{d[:9]:>10s}" for d in dims) + f"{'mean':>10s}")
        for v in variants:
            cells = [m.get(f"snow2008.cv.{v}.{d}.network_r_gold", float("nan")) for d in dims]
            print(f"{v:18s}" + "".join(f"{c:10.3f}" for c in cells)
                  + f"{m[f'snow2008.cv.{v}.mean_network_r_gold']:10.3f}")
        print(f"{'avg single worker':18s}" + " " * 10 * len(dims)
              + f"{m['snow2008.cv.mean_single_worker_r_gold']:10.3f}")
    print(f"\nrun.seconds in metrics.json: {m.get('run.seconds')}")


if __name__ == "__main__":
    main()
