"""The emotional LM: hooks in every block, no look-ahead, folder round trip, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lm_helpers import CONVERSATION, SCHEMA, labelled, tiny_lm
from maiga.errors import DataError, ModelNotFoundError
from maiga.lm.alignment import ContextTooLongError, encode_conversation
from maiga.lm.base import resolve_base_model
from maiga.lm.families import UnsupportedModelError
from maiga.lm.folder import load_emotional_lm, save_emotional_lm

FAMILIES = ["llama", "qwen2", "gpt2"]


def _batch(lm, conversation=CONVERSATION):
    encoded = encode_conversation(lm.tokenizer, conversation, len(SCHEMA.names))
    ids = torch.tensor([encoded.input_ids])
    emotions = torch.tensor(encoded.emotions)[None]
    return encoded, ids, emotions


def _randomise_modules(lm, seed=1):
    """Emotion modules start at zero (a no-op); give them weights so emotions matter."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in lm.conditioner.parameters():
            p.copy_(torch.randn(p.shape, generator=generator) * 0.5)


@pytest.mark.parametrize("family", FAMILIES)
def test_emotions_reach_every_norm_of_every_block(tiny_lm_dirs, family):
    lm = tiny_lm(tiny_lm_dirs[family])
    _randomise_modules(lm)
    _, ids, emotions = _batch(lm)
    base = lm.model.get_base_model()
    norms = [m for m in base.modules() if m in _hooked_norms(lm)]
    assert lm.conditioner.attached == 2 * base.config.num_hidden_layers == len(norms)

    seen = {}
    handles = [
        n.register_forward_hook(lambda m, a, o, i=i: seen.__setitem__(i, o.detach().clone()))
        for i, n in enumerate(norms)
    ]
    with torch.no_grad():
        lm(ids, emotions=emotions)
        first = dict(seen)
        lm(ids, emotions=emotions + 0.3)
    for h in handles:
        h.remove()
    # hooks run in registration order: ours first, so these outputs already carry the modulation
    for i in range(len(norms)):
        assert not torch.allclose(first[i], seen[i]), f"norm {i} did not see the emotions"


def _hooked_norms(lm):
    from maiga.lm.families import decoder_norms, family_layout

    base = lm.model.get_base_model()
    return {n for block in decoder_norms(base, family_layout(base)) for n in block}


def test_a_fresh_emotional_lm_equals_its_base_model(tiny_lm_dirs):
    lm = tiny_lm(tiny_lm_dirs["llama"])
    _, ids, emotions = _batch(lm)
    with torch.no_grad():
        conditioned = lm(ids, emotions=emotions).logits
        with lm.disconnected():
            plain = lm(ids, emotions=emotions).logits
    torch.testing.assert_close(conditioned, plain, rtol=0, atol=0)


def test_response_tokens_never_see_emotions_of_their_own_or_later_thoughts(tiny_lm_dirs):
    lm = tiny_lm(tiny_lm_dirs["llama"])
    encoded, ids, emotions = _batch(lm)
    user_thoughts = CONVERSATION[0]["thoughts"]
    reply = CONVERSATION[1]["thoughts"]
    response_rows = encoded.emotions[encoded.loss_mask]
    allowed = [t["values"] for t in user_thoughts] + [t["values"] for t in reply[:-1]]
    allowed = np.array(allowed, dtype=np.float32)
    for row in response_rows:
        assert np.isclose(row, allowed).all(axis=1).any(), (
            "a response token saw a thought not yet complete"
        )
    # the last reply thought is never visible to the response: nothing comes after it
    assert not np.isclose(response_rows, np.float32(reply[-1]["values"])).all(axis=1).any()

    # changing a later thought's values leaves every earlier position's logits unchanged
    _randomise_modules(lm)
    changed = [dict(m, thoughts=[dict(t) for t in m["thoughts"]]) for m in CONVERSATION]
    changed[1]["thoughts"][1]["values"] = [0.99] * len(SCHEMA.names)
    encoded2, _, emotions2 = _batch(lm, changed)
    first_diff = int(np.nonzero((encoded.emotions != encoded2.emotions).any(axis=1))[0][0])
    second_thought_start = CONVERSATION[1]["thoughts"][1]["start"]
    with torch.no_grad():
        a = lm(ids, emotions=emotions).logits[0]
        b = lm(ids, emotions=emotions2).logits[0]
    torch.testing.assert_close(a[:first_diff], b[:first_diff], rtol=0, atol=0)
    assert not torch.allclose(a[first_diff:], b[first_diff:])
    # and the first token to see thought 2's values lies in thought 3, after thought 2 is complete
    text = lm.tokenizer.decode(encoded.input_ids[: first_diff + 1])
    assert CONVERSATION[1]["content"][:second_thought_start].strip() in text


def test_prompt_tokens_see_their_own_thought(tiny_lm_dirs):
    lm = tiny_lm(tiny_lm_dirs["gpt2"])
    encoded, _, _ = _batch(lm)
    user_values = np.array([t["values"] for t in CONVERSATION[0]["thoughts"]], dtype=np.float32)
    prompt_rows = encoded.emotions[~encoded.loss_mask]
    for values in user_values:
        assert np.isclose(prompt_rows, values).all(axis=1).any()


def test_loss_mask_covers_the_reply_and_its_end_marker(tiny_lm_dirs):
    lm = tiny_lm(tiny_lm_dirs["qwen2"])
    encoded, _, _ = _batch(lm)
    masked = [i for i, keep in zip(encoded.input_ids, encoded.loss_mask) if keep]
    text = lm.tokenizer.decode(masked)
    assert text.strip().startswith("I am fine") and text.endswith("<|im_end|>")


@pytest.mark.parametrize("family", FAMILIES)
def test_save_load_round_trip_reproduces_logits_exactly(tiny_lm_dirs, tmp_path, family):
    lm = tiny_lm(tiny_lm_dirs[family])
    _randomise_modules(lm)
    with torch.no_grad():  # give the LoRA adapters non-zero weights too
        for name, p in lm.model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.2)
    lm.eval()
    _, ids, emotions = _batch(lm)
    with torch.no_grad():
        before = lm(ids, emotions=emotions).logits
    save_emotional_lm(lm, tmp_path / "lm")
    assert not (tmp_path / "lm" / "adapter" / "model.safetensors").exists()  # base not copied
    loaded = load_emotional_lm(tmp_path / "lm")
    with torch.no_grad():
        after = loaded(ids, emotions=emotions).logits
    torch.testing.assert_close(after, before, rtol=0, atol=0)


def test_plain_baseline_has_no_emotion_modules(tiny_lm_dirs, tmp_path):
    lm = tiny_lm(tiny_lm_dirs["llama"], conditioned=False)
    assert lm.conditioner is None
    save_emotional_lm(lm, tmp_path / "plain")
    assert not (tmp_path / "plain" / "emotion_modules.safetensors").exists()
    assert load_emotional_lm(tmp_path / "plain").conditioner is None


def test_calling_without_emotions_is_a_clear_error(tiny_lm_dirs):
    lm = tiny_lm(tiny_lm_dirs["llama"])
    _, ids, _ = _batch(lm)
    with pytest.raises(ValueError, match="needs emotion inputs"):
        lm(ids)


def test_unknown_model_is_a_clear_error(tmp_path):
    with pytest.raises(ModelNotFoundError, match="does not exist"):
        resolve_base_model(str(tmp_path / "nope"))
    from maiga.lm.base import load_base_model

    with pytest.raises(ModelNotFoundError, match="could not be loaded"):
        load_base_model(resolve_base_model("no-such-org-xyz/no-such-model-xyz"))


def test_model_family_without_hooks_is_a_clear_error(tmp_path):
    from transformers import BertConfig, BertLMHeadModel

    folder = tmp_path / "bert"
    BertLMHeadModel(
        BertConfig(
            vocab_size=100,
            hidden_size=16,
            num_hidden_layers=1,
            num_attention_heads=2,
            intermediate_size=32,
            is_decoder=True,
        )
    ).save_pretrained(folder)
    from maiga.lm.model import EmotionalLMSpec, build_emotional_lm

    with pytest.raises(UnsupportedModelError, match="'bert'.*Supported families"):
        build_emotional_lm(EmotionalLMSpec(base=str(folder), schema=SCHEMA))


def test_thoughts_with_the_wrong_number_of_values_are_rejected(tiny_lm_dirs):
    lm = tiny_lm(tiny_lm_dirs["llama"])
    bad = labelled([("user", "Hi there."), ("assistant", "Hello.")])
    bad[0]["thoughts"][0]["values"] = [0.5, 0.5]
    with pytest.raises(DataError, match="has 2 emotion values.*has 8"):
        encode_conversation(lm.tokenizer, bad, len(SCHEMA.names))


def test_conversation_longer_than_the_limit_is_a_clear_error(tiny_lm_dirs):
    lm = tiny_lm(tiny_lm_dirs["llama"])
    with pytest.raises(ContextTooLongError, match="more than the limit of 5"):
        encode_conversation(lm.tokenizer, CONVERSATION, len(SCHEMA.names), max_length=5)


def test_content_that_also_occurs_in_the_template_is_placed_in_its_message(tiny_lm_dirs):
    lm = tiny_lm(tiny_lm_dirs["llama"])
    lm.tokenizer.chat_template = (  # like SmolLM2's: a default system prompt when none is given
        "{% if messages[0]['role'] != 'system' %}<|im_start|>system\nYou are a helpful AI "
        "assistant<|im_end|>\n{% endif %}" + lm.tokenizer.chat_template
    )
    conversation = labelled([("user", "You"), ("assistant", "a helpful AI assistant")])
    encoded = encode_conversation(lm.tokenizer, conversation, len(SCHEMA.names))
    masked = [i for i, keep in zip(encoded.input_ids, encoded.loss_mask) if keep]
    assert lm.tokenizer.decode(masked).strip() == "a helpful AI assistant<|im_end|>"


def test_a_template_that_rewrites_content_is_a_clear_error(tiny_lm_dirs):
    lm = tiny_lm(tiny_lm_dirs["llama"])
    lm.tokenizer.chat_template = lm.tokenizer.chat_template.replace(
        "message['content']", "message['content'] | upper"
    )
    with pytest.raises(DataError, match="does not appear verbatim"):
        encode_conversation(lm.tokenizer, CONVERSATION, len(SCHEMA.names))


def test_one_token_steps_with_unchanged_emotions_reuse_the_modulation_exactly(tiny_lm_dirs):
    lm = tiny_lm(tiny_lm_dirs["llama"])
    _randomise_modules(lm)
    _, ids, emotions = _batch(lm)
    with torch.no_grad():
        out = lm(ids[:, :-1], emotions=emotions[:, :-1], use_cache=True)
        step = dict(input_ids=ids[:, -1:], emotions=emotions[:, -1:])
        first = lm(**step, past_key_values=_copy_cache(out.past_key_values), use_cache=True).logits
        assert lm.conditioner._step_cache  # filled on the first one-token step
        again = lm(**step, past_key_values=_copy_cache(out.past_key_values), use_cache=True).logits
        lm.conditioner._step_cache.clear()
        lm.conditioner._step_key = None
        fresh = lm(**step, past_key_values=_copy_cache(out.past_key_values), use_cache=True).logits
    torch.testing.assert_close(again, first, rtol=0, atol=0)
    torch.testing.assert_close(fresh, first, rtol=0, atol=0)


def _copy_cache(cache):
    import copy

    return copy.deepcopy(cache)
