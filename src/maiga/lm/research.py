"""Research-only entry points that take emotion values from the caller.

Normal use never accepts emotions from a user (see :mod:`maiga.lm.generate`). Ablations need to
set them by hand, for example to show what a fixed or adversarial emotion vector does; these
functions exist for that, log a warning every time, and are not exposed by the service.
"""

from __future__ import annotations

import logging

import numpy as np

from maiga.errors import DataError
from maiga.lm.generate import ChatResponse, EmotionalChat, _check_messages, refuse_control_tokens

logger = logging.getLogger(__name__)


def respond_with_fixed_emotions(
    chat: EmotionalChat, messages: list[dict], values: list[float]
) -> ChatResponse:
    """Generate with one caller-chosen emotion vector on every token (prompt and response)."""
    vector = np.asarray(values, dtype=np.float32)
    schema = chat.lm.schema
    if vector.shape != (len(schema.names),) or not np.isfinite(vector).all():
        raise DataError(
            f"Fixed emotions {values!r} must be {len(schema.names)} finite numbers, one per "
            f"dimension ({', '.join(schema.names)})."
        )
    outside = [
        f"{d.name}={v:g} is outside [{d.low:g}, {d.high:g}]"
        for d, v in zip(schema.dimensions, vector)
        if not d.low <= v <= d.high
    ]
    if outside:
        raise DataError(
            f"Fixed emotions: {'; '.join(outside)}. The order is {', '.join(schema.names)}."
        )
    logger.warning("RESEARCH MODE: emotions are fixed by the caller, not computed from the text.")
    checked = _check_messages(messages)
    refuse_control_tokens(chat.lm.tokenizer, checked)
    labelled = chat.label(checked)
    response = chat._generate(labelled, fixed=vector)
    response.meta["research_fixed_emotions"] = vector.tolist()
    return response
