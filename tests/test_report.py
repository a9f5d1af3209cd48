"""Tests of the HTML run report: self-contained, complete, escaped, and robust to empty input."""

from __future__ import annotations

import base64
import math
import re
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest

from maiga.errors import DataError
from maiga.report import EvalArrays, ReportInputs, render_report, write_report
from maiga.report.html import config_yaml, format_value
from maiga.report.plots import MIN_RATED, is_label_like, pearson_r, reliability_bins

WHEN = datetime(2024, 6, 1, 12, 0, tzinfo=timezone.utc)
IMG_SRC = re.compile(r'<img\s[^>]*src="([^"]*)"')


def _label_eval(rng: np.random.Generator) -> EvalArrays:
    """GoEmotions-like: label-ish targets, one all-NaN dimension and one barely rated."""
    dims = ["happiness", "sadness", "fear", "contempt", "valence"]
    ranges = [(0.0, 1.0)] * 4 + [(-1.0, 1.0)]
    n = 200
    targets = (rng.random((n, len(dims))) < 0.3).astype(float)
    preds = np.clip(0.6 * targets + 0.4 * rng.random((n, len(dims))), 0, 1)
    targets[rng.random((n, len(dims))) < 0.1] = np.nan  # scattered unrated cells
    targets[:, 3] = np.nan  # contempt: never rated
    targets[MIN_RATED - 5:, 2] = np.nan  # fear: too few rated for a picture
    targets[:, 4] = np.nan
    preds[:, 4] = rng.uniform(-1, 1, n)
    return EvalArrays("goemotions/test", dims, ranges, preds, targets)


def _score_eval(rng: np.random.Generator) -> EvalArrays:
    """EmoBank-like: continuous valence only."""
    n = 150
    valence = np.clip(rng.normal(0, 0.4, n), -1, 1)
    targets = np.column_stack([np.full(n, np.nan), valence])
    preds = np.column_stack([rng.random(n), np.clip(valence + rng.normal(0, 0.2, n), -1, 1)])
    return EvalArrays("emobank/test", ["happiness", "valence"], [(0, 1), (-1, 1)], preds,
                      targets)


def _full_inputs() -> ReportInputs:
    rng = np.random.default_rng(1234)
    return ReportInputs(
        title="Test run <b>bold</b>",
        metrics={
            "goemotions.ekman.macro_f1": 0.55123,
            "emobank.valence.pearson": np.float32(0.7),
            "snow2008.anger.network_r_gold": float("nan"),
            "goemotions.n_test": 5427,
            "encoder": "bert-base",
        },
        metric_docs={"goemotions.ekman.macro_f1": "Mean F1 over the Ekman emotions & more"},
        evals=[_label_eval(rng), _score_eval(rng)],
        per_dimension=[
            {"source": "goemotions", "dimension": "happiness", "network": 0.6,
             "human_ceiling": 0.7, "metric": "f1"},
            {"source": "goemotions", "dimension": "contempt", "network": float("nan"),
             "human_ceiling": None, "metric": "f1"},
            {"source": "emobank", "dimension": "valence", "network": 0.73,
             "human_ceiling": None, "metric": "pearson"},
        ],
        comparisons=[
            {"group": "mean", "label": "network vs gold", "value": 0.61},
            {"group": "mean", "label": "avg single worker vs gold", "value": 0.44},
            {"group": "anger", "label": "network vs gold", "value": 0.5},
        ],
        notes=["macro-F1 0.55 is 0.09 below the paper's BERT-base",
               "beware <script>alert('x')</script> in notes"],
        config={"seed": np.int64(7), "lr": 2e-5, "paths": [Path("/data/x")],
                "encoder": {"name": "bert-base"}},
        dropped_labels={"goemotions": ["neutral", "curiosity"], "emobank": []},
    )


def _img_srcs(html: str) -> list[str]:
    return IMG_SRC.findall(html)


def test_full_report_is_self_contained_complete_and_escaped(tmp_path: Path) -> None:
    plt = pytest.importorskip("matplotlib.pyplot")
    figures_before = plt.get_fignums()
    inputs = _full_inputs()
    out = write_report(tmp_path / "sub" / "report.html", inputs, generated_at=WHEN)

    assert plt.get_fignums() == figures_before  # no figure left open

    assert out == tmp_path / "sub" / "report.html" and out.is_file()
    assert [p.name for p in out.parent.iterdir()] == ["report.html"]  # no side files
    html = out.read_text("utf-8")

    # Self-contained: nothing is fetched, no scripts, no stylesheets from elsewhere.
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html, re.I)
    assert "<script" not in html.lower() and "<link" not in html.lower()

    # Plots: per-emotion + (calibration, agreement) x 2 evals + comparisons.
    srcs = _img_srcs(html)
    assert len(srcs) == 6
    assert html.count("<img") == 6
    for src in srcs:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"

    for key in inputs.metrics:
        assert key in html
    assert "0.551" in html and "0.700" in html and "5427" in html
    assert re.search(r"snow2008\.anger\.network_r_gold</td>\s*<td[^>]*>n/a<", html)
    assert "Mean F1 over the Ekman emotions &amp; more" in html

    # Escaping: the note and the title appear as text, never as markup.
    assert "&lt;script&gt;alert(" in html
    assert "Test run &lt;b&gt;bold&lt;/b&gt;" in html and "<b>bold</b>" not in html

    # Skipped dimensions are named with the reason.
    assert "contempt, valence</strong>: no rated items" in html
    assert re.search(r"<strong>fear</strong>: only 15 rated item\(s\); at least 20", html)

    # Dropped labels, comparison pivot and config.
    assert "neutral, curiosity" in html
    assert "avg single worker vs gold" in html and "—" in html  # anger has no worker value
    assert "seed: 7" in html and "/data/x" in html and "2024-06-01 12:00" in html


def test_empty_inputs_render_sentences(tmp_path: Path) -> None:
    out = write_report(tmp_path / "empty.html", ReportInputs(title="Empty"), generated_at=WHEN)
    html = out.read_text("utf-8")
    assert "<img" not in html
    for sentence in ("No findings were recorded", "No metrics were recorded",
                     "No per-emotion scores were recorded", "nothing to calibrate against",
                     "No comparisons were recorded", "No source reported dropped labels",
                     "No configuration was recorded"):
        assert sentence in html


def test_eval_without_enough_ratings_gets_a_sentence_not_a_plot() -> None:
    n = 10
    ev = EvalArrays("tiny", ["anger", "fear"], [(0, 1), (0, 1)], np.full((n, 2), 0.5),
                    np.column_stack([np.full(n, np.nan), np.linspace(0, 1, n)]))
    html = render_report(ReportInputs(title="t", evals=[ev]), generated_at=WHEN)
    assert "<img" not in html
    assert "No emotion in tiny has enough rated items" in html
    assert "<strong>anger</strong>: no rated items" in html
    assert "<strong>fear</strong>: only 10 rated item(s)" in html


def test_format_value() -> None:
    assert format_value(0.12345) == "0.123"
    assert format_value(np.float32(0.5)) == "0.500"
    assert format_value(float("nan")) == "n/a"
    assert format_value(None) == "n/a"
    assert format_value(3) == "3" and format_value(np.int64(4)) == "4"
    assert format_value(True) == "yes"
    assert format_value(float("inf")) == "inf"
    assert format_value("bert") == "bert"


def test_config_yaml_handles_numpy_and_paths() -> None:
    text = config_yaml({"a": np.float64(0.5), "b": (1, 2), "c": Path("/x"), "d": {"e": None}})
    assert text == "a: 0.5\nb:\n- 1\n- 2\nc: /x\nd:\n  e: null\n"
    assert config_yaml({}) == ""


def test_reliability_bins_and_helpers() -> None:
    pred = np.array([0.05, 0.05, 0.95, 1.2])  # 1.2 is out of range: counted in the last bin
    target = np.array([0.0, 1.0, 1.0, 0.0])
    counts, mean_p, mean_t = reliability_bins(pred, target, 0.0, 1.0)
    assert counts.tolist() == [2, 0, 0, 0, 0, 0, 0, 0, 0, 2]
    assert mean_p[0] == pytest.approx(0.05) and mean_t[0] == pytest.approx(0.5)
    assert math.isnan(mean_p[1])
    assert is_label_like(np.array([0, 1 / 3, 2 / 3, 1, 0]))
    assert not is_label_like(np.linspace(-1, 1, 7))
    assert math.isnan(pearson_r(np.ones(5), np.arange(5.0)))
    assert pearson_r(np.arange(5.0), np.arange(5.0)) == pytest.approx(1.0)


def test_eval_arrays_reject_mismatched_shapes() -> None:
    with pytest.raises(DataError, match="bad"):
        EvalArrays("bad", ["a", "b"], [(0, 1), (0, 1)], np.zeros((3, 2)), np.zeros((4, 2)))
    with pytest.raises(DataError, match="3 columns but there are 2 dimensions"):
        EvalArrays("bad", ["a", "b"], [(0, 1), (0, 1)], np.zeros((3, 3)), np.zeros((3, 3)))
