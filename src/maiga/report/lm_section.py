"""The report's emotional-LM section: the inseparability table and the NLL-per-condition plot."""

from __future__ import annotations

import math

import matplotlib
import numpy as np

from maiga.report.plots import _STYLE, PALETTE, PlotResult, _new_figure, to_data_uri

CORRUPTIONS = ("zeroed", "shuffled", "noised", "disconnected")
# condition -> (what it is, the target the issue set, or None)
EXPLAIN = {
    "true": ("emotions computed by the emotional network", "within 5% of plain LoRA"),
    "zeroed": ("every emotion value set to 0", "at least 1.5 x true"),
    "shuffled": ("emotions of another held-out conversation", "at least 1.5 x true"),
    "noised": ("true emotions plus Gaussian noise, clipped", None),
    "disconnected": ("emotion modules switched off, adapters kept", "at least 1.5 x true"),
    "plain_lora": ("plain LoRA fine-tune, same data, steps and seed", None),
    "base": ("the base model before fine-tuning", None),
}


def lm_rows(nll: dict[str, float]) -> list[dict]:
    """One row per condition: NLL, ratio to the reference, the target and whether it is met."""
    true, plain = nll.get("true", math.nan), nll.get("plain_lora", math.nan)
    rows = []
    for condition, (meaning, target) in EXPLAIN.items():
        if condition not in nll:
            continue
        value = nll[condition]
        if condition == "true":
            ratio, met = value / plain, value / plain <= 1.05
            ratio_of = "plain_lora"
        elif condition in CORRUPTIONS:
            ratio, met = value / true, value / true >= 1.5
            ratio_of = "true"
        else:
            ratio, met, ratio_of = value / true, None, "true"
        rows.append(
            {
                "condition": condition,
                "meaning": meaning,
                "nll": f"{value:.3f}",
                "ratio": f"{ratio:.2f} x {ratio_of}" if math.isfinite(ratio) else "n/a",
                "target": target or "",
                "met": "" if target is None else ("met" if met else "not met"),
            }
        )
    return rows


def lm_ablation_plot(nll: dict[str, float]) -> PlotResult:
    """Bars of held-out NLL per condition, with the plain fine-tune beside them."""
    order = [c for c in ("true", *CORRUPTIONS, "plain_lora", "base") if c in nll]
    if "true" not in nll:
        return PlotResult(None)
    values = np.array([nll[c] for c in order])
    colours = [
        PALETTE[0] if c == "true" else PALETTE[3] if c in CORRUPTIONS else PALETTE[2]
        for c in order
    ]
    with matplotlib.rc_context(_STYLE):
        fig = _new_figure(6.4, 3.6)
        ax = fig.subplots()
        x = np.arange(len(order))
        ax.bar(x, values, color=colours, width=0.7)
        for xx, v in zip(x, values):
            ax.text(xx, v, f"{v:.2f}", ha="center", va="bottom", fontsize=7, color="0.2")
        ax.axhline(1.5 * nll["true"], color="0.3", linestyle="--", linewidth=0.8)
        ax.text(
            len(order) - 0.5, 1.5 * nll["true"], "1.5 x true", ha="right", va="bottom", fontsize=7
        )
        ax.set_xticks(x, [c.replace("_", " ") for c in order], rotation=20, ha="right")
        ax.set_ylabel("held-out response NLL / token")
        ax.set_ylim(0, max(values.max(), 1.5 * nll["true"]) * 1.12)
        ax.grid(axis="y", color="0.9")
        ax.set_axisbelow(True)
        return PlotResult(to_data_uri(fig), shown=order)
