"""The SFT loop for the emotional LM and its plain LoRA baseline.

Written by hand because TRL's trainers drop extra model inputs such as the per-token emotions.
Accelerate supplies devices and data parallelism, so the same code runs on a laptop CPU and under
``accelerate launch`` on several GPUs. Batches are a pure function of the step number and the
seed, and checkpoints hold only the trainable weights plus optimizer state, so an interrupted run
resumes to the same result.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from maiga.io import write_atomic
from maiga.lm.alignment import EncodedConversation
from maiga.lm.model import EmotionalLM
from maiga.sft.batches import batch_indices, collate, row_nll
from maiga.sft.corruption import corrupt_row
from maiga.sft.train_config import SftTrainConfig

logger = logging.getLogger(__name__)


@dataclass
class TrainRecord:
    steps: int = 0
    seconds: float = 0.0
    tokens: int = 0
    loss: list[float] = field(default_factory=list)
    true_nll: list[float] = field(default_factory=list)
    corrupt_nll: list[float | None] = field(default_factory=list)

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds if self.seconds else 0.0

    def to_dict(self) -> dict:
        return {**asdict(self), "tokens_per_second": self.tokens_per_second}


def train_lm(
    lm: EmotionalLM,
    examples: list[EncodedConversation],
    config: SftTrainConfig,
    checkpoint_dir: Path | None = None,
    progress: bool = True,
) -> TrainRecord:
    """Train the adapters (and emotion modules, if any) of ``lm`` in place."""
    from accelerate import Accelerator

    if not examples:
        raise ValueError("No training examples; the mixture is empty after filtering.")
    accelerator = Accelerator()
    local_batch = config.batch_size // accelerator.num_processes
    if lm.conditioner is not None and config.inseparability_weight > 0 and local_batch < 2:
        raise ValueError(
            f"batch_size {config.batch_size} gives {local_batch} row(s) per process; the "
            "inseparability term needs at least 2 (true and corrupted rows side by side). Raise "
            "batch_size or set inseparability_weight to 0."
        )
    torch.manual_seed(config.seed)
    conditioned = lm.conditioner is not None
    optimizer = _optimizer(lm, config)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / max(1, config.warmup_steps))
    )
    record = TrainRecord()
    start_step = _resume(lm, optimizer, scheduler, record, checkpoint_dir)
    model, optimizer = accelerator.prepare(lm, optimizer)
    pad_id = lm.tokenizer.pad_token_id
    generator = torch.Generator().manual_seed(config.seed)
    model.train()

    bar = _progress(
        progress, config.steps, start_step, "emotional LM" if conditioned else "plain LoRA"
    )
    for step in range(start_step, config.steps):
        began = time.perf_counter()
        rows = batch_indices(len(examples), config.batch_size, step, config.seed)
        rows = rows[accelerator.process_index :: accelerator.num_processes] or rows[:1]
        batch = collate([examples[i] for i in rows], pad_id).to(accelerator.device)
        # every random draw of a step (noise, dropout) depends on the step alone, so a resumed run
        # draws what an uninterrupted one would have
        generator.manual_seed(config.seed * 1_000_003 + step)
        torch.manual_seed(config.seed * 1_000_003 + step)
        loss, true_nll, corrupt_nll = _step_loss(model, lm, batch, config, step, generator, rows)
        accelerator.backward(loss)
        accelerator.clip_grad_norm_(
            [p for p in lm.parameters() if p.requires_grad], config.max_grad_norm
        )
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        record.steps = step + 1
        record.seconds += time.perf_counter() - began
        record.tokens += batch.tokens
        record.loss.append(float(loss.detach()))
        record.true_nll.append(true_nll)
        record.corrupt_nll.append(corrupt_nll)
        if bar is not None:
            bar[0].update(bar[1], advance=1, description=f"loss {record.loss[-1]:.3f}")
        if (
            checkpoint_dir is not None
            and (record.steps % config.checkpoint_every == 0)
            and accelerator.is_main_process
        ):
            _save_checkpoint(lm, optimizer, scheduler, record, checkpoint_dir)
    if bar is not None:
        bar[0].stop()
    model.eval()
    return record


def _optimizer(lm: EmotionalLM, config: SftTrainConfig) -> torch.optim.Optimizer:
    adapter = [p for n, p in lm.model.named_parameters() if p.requires_grad]
    groups = [{"params": adapter, "lr": config.learning_rate}]
    if lm.conditioner is not None:
        groups.append(
            {"params": list(lm.conditioner.parameters()), "lr": config.emotion_learning_rate}
        )
    return torch.optim.AdamW(groups, weight_decay=0.0)


def _step_loss(
    model,
    lm: EmotionalLM,
    batch,
    config: SftTrainConfig,
    step: int,
    generator: torch.Generator,
    rows: list[int],
):
    """Loss of one batch: NLL on true rows, plus the inseparability hinge on corrupted rows."""
    size = batch.input_ids.shape[0]
    n_corrupt = 0
    weight = _inseparability_weight(config, step)
    if lm.conditioner is not None and config.corrupt_fraction > 0 and weight > 0:
        n_corrupt = min(size - 1, max(1, round(config.corrupt_fraction * size)))
    emotions = batch.emotions.clone()
    connected = torch.ones(size, device=emotions.device)
    kinds = []
    for j in range(n_corrupt):
        row = size - 1 - j
        kind = config.corruptions[(step * n_corrupt + j) % len(config.corruptions)]
        # another example's emotions: a batch can hold one example twice at an epoch boundary
        others = [r for r in range(size) if rows[r] != rows[row]]
        donor = batch.emotions[others[-1]] if others else None
        if kind == "shuffled" and donor is None:
            kind = "zeroed"
        emotions[row] = corrupt_row(
            kind, batch.emotions[row], donor, lm.schema, config.noise_std, generator
        )
        if kind == "disconnected":
            connected[row] = 0
        kinds.append(kind)
    out = model(
        batch.input_ids,
        emotions=emotions,
        attention_mask=batch.attention_mask,
        connected=connected if n_corrupt else None,
    )
    sums, counts = row_nll(out.logits, batch.labels)
    true_rows = slice(0, size - n_corrupt)
    true_nll = sums[true_rows].sum() / counts[true_rows].sum().clamp(min=1)
    loss = true_nll
    corrupt_value = None
    if n_corrupt:
        corrupt = sums[size - n_corrupt :] / counts[size - n_corrupt :].clamp(min=1)
        target = config.target_ratio * true_nll.detach()
        loss = loss + weight * torch.relu(target - corrupt).mean()
        corrupt_value = float(corrupt.detach().mean())
    return loss, float(true_nll.detach()), corrupt_value


def _inseparability_weight(config: SftTrainConfig, step: int) -> float:
    """0 during the first share of steps (true emotions only), then a linear ramp to full.

    Starting at once pushes corrupted rows up before the model has learnt anything from the
    true emotions, and drags the true-emotion loss up with them.
    """
    start = int(config.inseparability_start * config.steps)
    if step < start:
        return 0.0
    ramp = max(1, start)
    return config.inseparability_weight * min(1.0, (step - start + 1) / ramp)


# ---- checkpoints -------------------------------------------------------------------------


def _save_checkpoint(lm, optimizer, scheduler, record: TrainRecord, folder: Path) -> None:
    state = {
        "trainable": {n: p.detach().cpu() for n, p in lm.named_parameters() if p.requires_grad},
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "record": asdict(record),
    }
    folder.mkdir(parents=True, exist_ok=True)
    write_atomic(folder / "trainer_state.pt", lambda tmp: torch.save(state, tmp))


def _resume(lm, optimizer, scheduler, record: TrainRecord, folder: Path | None) -> int:
    path = folder / "trainer_state.pt" if folder is not None else None
    if path is None or not path.is_file():
        return 0
    state = torch.load(path, map_location="cpu", weights_only=True)
    params = dict(lm.named_parameters())
    with torch.no_grad():
        for name, value in state["trainable"].items():
            params[name].copy_(value)
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    for key, value in state["record"].items():
        setattr(record, key, value)
    logger.info("Resuming SFT from step %d (%s).", record.steps, path)
    return record.steps


def _progress(enabled: bool, total: int, done: int, label: str):
    if not enabled:
        return None
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    progress = Progress(
        TextColumn(f"SFT {label}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.description}"),
    )
    progress.start()
    task = progress.add_task("", total=total, completed=done)
    return progress, task
