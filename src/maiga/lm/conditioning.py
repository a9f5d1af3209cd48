"""Emotion conditioning: a scale and shift of every decoder block's normed hidden states.

Mechanism (feature-wise linear modulation). Each value is first taken back to the scale the
emotional network computed it on (the logit of a [0, 1] value, the inverse tanh of a [-1, 1]
one), where a real emotion vector and an all-zero or noised one are far apart; then a small
shared encoder maps the per-token vector ``e`` (B, T, D) to a code ``z``; for each norm ``n`` of
each block, a linear map gives ``(gamma, beta) = W_n z + b_n`` and the norm's output ``h``
becomes ``h * (1 + gamma) + beta``.
Everything downstream of the norm (attention or MLP, and the LoRA adapters inside them) sees
emotion-modulated inputs in every block, which is what lets training make the model depend on
the emotions. ``W_n`` and ``b_n`` start at zero, so before training the model is exactly the
base model.

The modulation is applied by forward hooks on the norm modules, so the base model's code is not
changed and any family whose blocks have norms can be hooked (see :mod:`maiga.lm.families`). The
current inputs are set with :meth:`EmotionConditioner.inputs` around one forward pass.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class ConditionerConfig:
    n_dims: int
    hidden_size: int
    n_blocks: int
    norms_per_block: int
    code_size: int = 32
    signed: tuple[bool, ...] = ()  # per dimension: range [-1, 1] (else [0, 1])

    def to_dict(self) -> dict:
        return {**self.__dict__, "signed": list(self.signed)}


_EDGE = 1e-4  # keeps logit and atanh finite at the ends of the range
_FEATURE_SCALE = 0.25  # logits of network outputs mostly lie within about +-8


class EmotionConditioner(nn.Module):
    """Maps emotions to per-norm scale and shift and applies them through hooks."""

    def __init__(self, config: ConditionerConfig):
        super().__init__()
        self.config = config
        self.encoder = nn.Sequential(
            nn.Linear(config.n_dims, config.code_size),
            nn.SiLU(),
            nn.Linear(config.code_size, config.code_size),
            nn.SiLU(),
        )
        n_norms = config.n_blocks * config.norms_per_block
        self.modulations = nn.ModuleList(
            nn.Linear(config.code_size, 2 * config.hidden_size) for _ in range(n_norms)
        )
        for linear in self.modulations:
            nn.init.zeros_(linear.weight)
            nn.init.zeros_(linear.bias)
        self._emotions: torch.Tensor | None = None
        self._connected: torch.Tensor | None = None
        self._code: torch.Tensor | None = None
        self._handles: list = []
        self._step_key: bytes | None = None
        self._step_cache: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}
        self.enabled = True
        signed = list(config.signed) or [False] * config.n_dims
        if len(signed) != config.n_dims:
            raise ValueError(f"signed has {len(signed)} entries for {config.n_dims} dimensions")
        self.register_buffer("_signed", torch.tensor(signed, dtype=torch.bool), persistent=False)

    def features(self, emotions: torch.Tensor) -> torch.Tensor:
        """Emotion values on the network's pre-activation scale (logit or inverse tanh)."""
        unsigned = torch.logit(emotions.clamp(_EDGE, 1 - _EDGE))
        signed = torch.atanh(emotions.clamp(-1 + _EDGE, 1 - _EDGE))
        return torch.where(self._signed, signed, unsigned) * _FEATURE_SCALE

    # ---- wiring -------------------------------------------------------------------------

    def attach(self, norms_by_block: list[list[nn.Module]]) -> None:
        """Register one hook per norm; blocks and norms must match the config."""
        shape = (len(norms_by_block), len(norms_by_block[0]) if norms_by_block else 0)
        expected = (self.config.n_blocks, self.config.norms_per_block)
        if shape != expected:
            raise ValueError(
                f"Model has {shape} (blocks, norms per block); conditioner expects {expected}."
            )
        self.detach()
        index = 0
        for norms in norms_by_block:
            for norm in norms:
                self._handles.append(norm.register_forward_hook(self._hook(index)))
                index += 1

    def detach(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []

    @property
    def attached(self) -> int:
        return len(self._handles)

    # ---- inputs for one forward pass ------------------------------------------------------

    @contextmanager
    def inputs(self, emotions: torch.Tensor, connected: torch.Tensor | None = None):
        """Make ``emotions`` (B, T, D) the conditioning of the forward passes inside the block.

        ``connected`` (B,) in {0, 1} switches the modulation off per row, which is how
        "emotion modules removed" is simulated for some rows of a batch.
        """
        if emotions.dim() != 3 or emotions.shape[-1] != self.config.n_dims:
            raise ValueError(
                f"emotions must have shape (batch, tokens, {self.config.n_dims}); got "
                f"{tuple(emotions.shape)}."
            )
        self._emotions, self._connected, self._code = emotions, connected, None
        # Generation feeds one token at a time, and the emotions change only when a thought
        # completes: reuse the scale and shift of every norm while they stay the same.
        key = None
        if emotions.shape[1] == 1 and connected is None and not torch.is_grad_enabled():
            key = emotions.detach().cpu().numpy().tobytes()
        if key is None or key != self._step_key:
            self._step_cache = {}
        self._step_key = key
        try:
            yield
        finally:
            self._emotions = self._connected = self._code = None

    def _hook(self, index: int):
        def hook(module: nn.Module, args, output: torch.Tensor) -> torch.Tensor:
            if not self.enabled:
                return output
            if self._emotions is None:
                raise RuntimeError(
                    "The emotional LM was called without emotion inputs. Call it through "
                    "EmotionalLM.forward(..., emotions=...), which sets them."
                )
            if output.shape[:2] != self._emotions.shape[:2]:
                raise ValueError(
                    f"Hidden states {tuple(output.shape[:2])} and emotions "
                    f"{tuple(self._emotions.shape[:2])} disagree on (batch, tokens)."
                )
            if self._step_key is not None and index in self._step_cache:
                scale, beta = self._step_cache[index]
                return torch.addcmul(beta, output, scale)
            if self._code is None:  # computed once per forward pass, shared by all norms
                weight = self.modulations[0].weight
                self._code = self.encoder(
                    self.features(self._emotions.to(weight.device, weight.dtype))
                )
            gamma, beta = self.modulations[index](self._code).to(output.dtype).chunk(2, dim=-1)
            if self._connected is not None:
                keep = self._connected.to(output.dtype).view(-1, 1, 1)
                gamma, beta = gamma * keep, beta * keep
            scale = 1 + gamma
            if self._step_key is not None:
                self._step_cache[index] = (scale, beta)
            return torch.addcmul(beta, output, scale)

        return hook
