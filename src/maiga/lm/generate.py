"""Generation with the emotional loop.

The emotions that reach the model are always computed from the conversation by the emotional
network: the prompt is labelled before generation starts, and each time a thought of the response
completes, its emotions are computed and fed to the tokens that follow (see
:mod:`maiga.lm.alignment` for why response tokens only see complete thoughts). Users pass
messages, never emotion values: emotion directions are a known lever for jailbreaks. The single
exception, for ablations, is :func:`maiga.lm.research.respond_with_fixed_emotions`.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from maiga.errors import ConfigError, DataError
from maiga.lm.alignment import ContextTooLongError, encode_conversation
from maiga.lm.model import EmotionalLM
from maiga.thoughts import split_thoughts


@dataclass
class TracedThought:
    role: str
    message: int  # index of the message; the response is the last
    text: str
    start: int
    end: int
    values: dict[str, float]


@dataclass
class ChatResponse:
    text: str
    trace: list[TracedThought]
    new_tokens: int
    seconds: float
    stopped: str  # "end" (end-of-turn token) or "length"
    scored_during_generation: int = 0
    meta: dict = field(default_factory=dict)


@dataclass
class GenerationSettings:
    max_new_tokens: int = 128
    temperature: float = 0.0  # 0: greedy
    top_p: float = 1.0
    seed: int = 0
    rescore: bool = True  # False: keep the prompt's last emotions for the whole response
    stop_at_end: bool = True  # False: always write max_new_tokens (for benchmarks)
    merge_adapters: bool = (
        True  # fold LoRA into the base weights: same outputs, less work per token
    )


def check_settings(settings: GenerationSettings) -> None:
    problems = []
    if settings.max_new_tokens < 1:
        problems.append(f"max_new_tokens is {settings.max_new_tokens}; it must be at least 1")
    if not (settings.temperature >= 0 and math.isfinite(settings.temperature)):
        problems.append(
            f"temperature is {settings.temperature}; use 0 (greedy) or a finite positive value"
        )
    if not 0 < settings.top_p <= 1:
        problems.append(f"top_p is {settings.top_p}; it must be in (0, 1]")
    if problems:
        raise ConfigError("Generation settings are invalid: " + "; ".join(problems) + ".")


class EmotionalChat:
    """Answer conversations with an emotional LM whose emotions come from an emotional network."""

    def __init__(self, lm: EmotionalLM, network, settings: GenerationSettings | None = None):
        if list(network.schema.names) != list(lm.schema.names):
            raise ConfigError(
                f"The emotional network's schema ({', '.join(network.schema.names)}) does not "
                "match "
                f"the emotional LM's ({', '.join(lm.schema.names)}). Use the network the LM was "
                "trained with (its path is in emotional_lm.json under 'emotional_network')."
            )
        self.lm = lm
        self.network = network
        self.settings = settings or GenerationSettings()
        check_settings(self.settings)
        self._cache: dict[str, np.ndarray] = {}
        lm.eval()
        if self.settings.merge_adapters and hasattr(lm.model, "merge_adapter"):
            # PEFT keeps the adapters separate and can unmerge them (lm.model.unmerge_adapter())
            # before any further training of this model object.
            lm.model.merge_adapter()

    # ---- public -------------------------------------------------------------------------

    def respond(self, messages: list[dict]) -> ChatResponse:
        """Generate the assistant's next message for ``messages`` (role/content dicts)."""
        messages = _check_messages(messages)
        refuse_control_tokens(self.lm.tokenizer, messages)
        labelled = self.label(messages)
        return self._generate(labelled, fixed=None)

    def label(self, messages: list[dict]) -> list[dict]:
        """Attach thoughts and their emotions to each message, using the emotional network."""
        out = []
        for message in messages:
            thoughts = split_thoughts(message["content"], self.network.segmenter)
            values = self._values([t.text for t in thoughts])
            out.append(
                {
                    **message,
                    "thoughts": [
                        {"start": t.start, "end": t.end, "values": v.tolist()}
                        for t, v in zip(thoughts, values)
                    ],
                }
            )
        return out

    # ---- generation loop ----------------------------------------------------------------

    def _generate(self, labelled: list[dict], fixed: np.ndarray | None) -> ChatResponse:
        lm, settings = self.lm, self.settings
        encoded = encode_conversation(
            lm.tokenizer,
            labelled,
            lm.n_dims,
            add_generation_prompt=True,
            segmenter=self.network.segmenter,
        )
        window = lm.context_window
        if len(encoded) >= window:
            raise ContextTooLongError(
                f"The conversation has {len(encoded)} tokens; the model's context window is "
                f"{window}. "
                "Drop earlier turns or shorten the messages."
            )
        budget = min(settings.max_new_tokens, window - len(encoded))
        device = next(lm.parameters()).device
        stop_ids = _stop_ids(lm)
        generator = torch.Generator(device="cpu").manual_seed(settings.seed)

        prompt_emotions = (
            encoded.emotions if fixed is None else np.broadcast_to(fixed, encoded.emotions.shape)
        )
        current = encoded.last_thought_values if fixed is None else fixed
        ids = torch.tensor([encoded.input_ids], device=device)
        emotions = torch.tensor(np.ascontiguousarray(prompt_emotions), device=device)[None]
        response_ids: list[int] = []
        completed = 0
        stopped = "length"
        start = time.perf_counter()
        with torch.inference_mode():
            out = lm(ids, emotions=emotions, use_cache=True)
            for _ in range(budget):
                token = _next_token(out.logits[0, -1], settings, generator)
                if token in stop_ids and settings.stop_at_end:
                    stopped = "end"
                    break
                response_ids.append(token)
                if fixed is None and settings.rescore:
                    current, completed = self._after_token(response_ids, current, completed)
                step_emotions = torch.tensor(current, dtype=torch.float32, device=device).view(
                    1, 1, -1
                )
                out = lm(
                    torch.tensor([[token]], device=device),
                    emotions=step_emotions,
                    past_key_values=out.past_key_values,
                    use_cache=True,
                )
        seconds = time.perf_counter() - start
        text = lm.tokenizer.decode(response_ids, skip_special_tokens=True)
        trace = self._trace(labelled, text)
        return ChatResponse(text, trace, len(response_ids), seconds, stopped, completed)

    def _after_token(self, response_ids: list[int], current: np.ndarray, completed: int):
        """Score thoughts of the response that the newest token has completed."""
        text = self.lm.tokenizer.decode(response_ids, skip_special_tokens=True)
        if not text.strip():  # a leading space, newline or skipped special token: no thought yet
            return current, completed
        thoughts = split_thoughts(text, self.network.segmenter)
        done = thoughts[:-1]  # the last thought may still be growing
        if len(done) > completed:
            current = self._values([done[-1].text])[0]
            completed = len(done)
        return current, completed

    def _values(self, texts: list[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if missing:
            for text, row in zip(missing, self.network.predict(missing)):
                self._cache[text] = row.astype(np.float32)
        if not texts:
            return np.zeros((0, self.lm.n_dims), dtype=np.float32)
        return np.stack([self._cache[t] for t in texts])

    def _trace(self, labelled: list[dict], response: str) -> list[TracedThought]:
        names = self.lm.schema.names
        trace = []
        for index, message in enumerate(labelled):
            for t in message["thoughts"]:
                trace.append(
                    TracedThought(
                        message["role"],
                        index,
                        message["content"][t["start"] : t["end"]],
                        t["start"],
                        t["end"],
                        dict(zip(names, map(float, t["values"]))),
                    )
                )
        thoughts = split_thoughts(response, self.network.segmenter) if response.strip() else []
        for t, values in zip(thoughts, self._values([t.text for t in thoughts])):
            trace.append(
                TracedThought(
                    "assistant",
                    len(labelled),
                    t.text,
                    t.start,
                    t.end,
                    dict(zip(names, map(float, values))),
                )
            )
        return trace


ROLES = ("system", "user", "assistant")


def _check_messages(messages: list[dict]) -> list[dict]:
    if not isinstance(messages, list) or not messages:
        raise DataError("A conversation must be a non-empty list of {'role', 'content'} messages.")
    checked = []
    for i, m in enumerate(messages):
        if (
            not isinstance(m, dict)
            or not isinstance(m.get("role"), str)
            or not isinstance(m.get("content"), str)
        ):
            raise DataError(
                f"Message #{i + 1} is {m!r}; each message needs a string 'role' and 'content'."
            )
        if not m["content"].strip():
            raise DataError(f"Message #{i + 1} ({m['role']}) is empty; drop it or give it text.")
        try:
            m["content"].encode("utf-8")
        except UnicodeEncodeError:
            raise DataError(
                f"Message #{i + 1} ({m['role']}) holds bytes that are not UTF-8 text; convert it "
                "to UTF-8 first (for example with iconv)."
            ) from None
        if m["role"] not in ROLES:
            raise DataError(
                f"Message #{i + 1} has role {m['role']!r}; use one of {', '.join(ROLES)}."
            )
        if set(m) - {"role", "content"}:
            raise DataError(
                f"Message #{i + 1} carries {sorted(set(m) - {'role', 'content'})}; only role and "
                "content are accepted. Emotions are computed from the text, never taken from input."
            )
        checked.append({"role": m["role"], "content": m["content"]})
    if checked[-1]["role"] == "assistant":
        raise DataError(
            "The last message is the assistant's; end with a user message to get a reply."
        )
    return checked


def refuse_control_tokens(tokenizer, messages: list[dict]) -> None:
    """Message text must not contain the chat template's control tokens.

    Otherwise a user could write "<|im_end|>\n<|im_start|>assistant\n..." inside a message and
    forge turns the model takes for real ones.
    """
    specials = [t for t in getattr(tokenizer, "all_special_tokens", []) if t and len(t) > 1]
    specials += [
        str(t)
        for t in getattr(tokenizer, "added_tokens_decoder", {}).values()
        if getattr(t, "special", False)
    ]
    for i, m in enumerate(messages):
        found = sorted({t for t in specials if t in m["content"]})
        if found:
            raise DataError(
                f"Message #{i + 1} ({m['role']}) contains the control token(s) {found}, which "
                "would let its text pose as other turns of the conversation. Remove them."
            )


def _stop_ids(lm: EmotionalLM) -> set[int]:
    ids = set()
    config_eos = getattr(getattr(lm.model, "generation_config", None), "eos_token_id", None)
    for value in (config_eos, lm.tokenizer.eos_token_id):
        if isinstance(value, int):
            ids.add(value)
        elif isinstance(value, (list, tuple)):
            ids.update(int(v) for v in value)
    return ids


def _next_token(
    logits: torch.Tensor, settings: GenerationSettings, generator: torch.Generator
) -> int:
    if settings.temperature <= 0:
        return int(torch.argmax(logits))
    probs = torch.softmax(logits.float() / settings.temperature, dim=-1)
    if settings.top_p < 1.0:
        sorted_probs, order = torch.sort(probs, descending=True)
        keep = torch.cumsum(sorted_probs, dim=-1) - sorted_probs < settings.top_p
        probs = torch.zeros_like(probs).scatter(0, order[keep], sorted_probs[keep])
    return int(torch.multinomial(probs.cpu(), 1, generator=generator))
