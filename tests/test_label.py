"""maiga label: every input format, exact thought spans, the thought cache, resuming, errors."""

from __future__ import annotations

import gzip
import json
import math
from dataclasses import replace

import pandas as pd
import pytest
import torch
import typer
from typer.testing import CliRunner

import maiga.label.labeller as labeller
from maiga.cli.label import label_command
from maiga.errors import ConfigError, DataError
from maiga.label import (
    ThoughtCache,
    label_conversations,
    label_file,
    parse_hh_transcript,
    read_labelled,
)
from maiga.label.formats import SkipRow, conversations_of
from maiga.network.encoder import load_sentence_encoder
from maiga.network.folder import save_network
from maiga.network.model import EmotionalNetwork
from maiga.schema import load_schema
from maiga.thoughts import split_thoughts

SCHEMA = load_schema("essay8-va")

CHAT = [
    {
        "id": 1,
        "messages": [
            {"role": "user", "content": "Hello there. How are you?"},
            {"role": "assistant", "content": "I am fine, thanks! It was a long day."},
        ],
    },
    {
        "id": 2,
        "messages": [
            {"role": "system", "content": "You are kind."},
            {"role": "user", "content": "Hello there. My dog died this morning."},
            {"role": "assistant", "content": "I am so sorry. That is very sad."},
        ],
    },
    {
        "id": 3,
        "messages": [
            {"role": "user", "content": "We won the cup! Everyone cried."},
            {"role": "assistant", "content": "Congratulations. What a day."},
        ],
    },
    {
        "id": 4,
        "messages": [
            {"role": "system", "content": "You are kind."},
            {"role": "user", "content": "I am scared of the dark. Is that silly?"},
            {"role": "assistant", "content": "Not at all. Many people are."},
        ],
    },
    {
        "id": 5,
        "messages": [
            {"role": "user", "content": "Hello there. How are you?"},
            {"role": "assistant", "content": "Tired. Work was a disaster today."},
        ],
    },
]


@pytest.fixture(scope="module")
def network(tiny_encoder_dir) -> EmotionalNetwork:
    torch.manual_seed(0)
    encoder = load_sentence_encoder(tiny_encoder_dir)
    return EmotionalNetwork(encoder, SCHEMA, encoder_ref=str(tiny_encoder_dir), hidden=16)


@pytest.fixture
def predicted(network, monkeypatch) -> list[list[str]]:
    """Every list of texts the network is asked to score, in order."""
    calls: list[list[str]] = []
    real = network.predict

    def counting_predict(texts, batch_size=128, progress=False):
        calls.append(list(texts))
        return real(texts, batch_size, progress)

    monkeypatch.setattr(network, "predict", counting_predict)
    return calls


def write_jsonl(path, rows) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def assert_thoughts_fit(rows, network, keys=("messages",)) -> None:
    """Spans cut exactly the segmenter's thoughts out of each message; values are in range."""
    for row in rows:
        for key in keys:
            for message in row[key]:
                content = message["content"]
                expected = [t.text for t in split_thoughts(content, network.segmenter)]
                cut = [content[t["start"] : t["end"]] for t in message["thoughts"]]
                assert cut == expected
                for thought in message["thoughts"]:
                    assert len(thought["values"]) == len(SCHEMA)
                    assert all(
                        lo <= v <= hi
                        for v, lo, hi in zip(thought["values"], SCHEMA.lows, SCHEMA.highs)
                    )


# ---- formats --------------------------------------------------------------------------------


def test_jsonl_chat_keeps_columns_and_labels_every_message(network, tmp_path):
    write_jsonl(tmp_path / "chat.jsonl", CHAT)
    summary = label_file(
        tmp_path / "chat.jsonl", tmp_path / "out", network, chunk_rows=2, progress=False
    )
    rows = read_labelled(tmp_path / "out")
    assert [r["id"] for r in rows] == [1, 2, 3, 4, 5]
    assert [[m["role"] for m in r["messages"]] for r in rows] == [
        [m["role"] for m in r["messages"]] for r in CHAT
    ]
    assert_thoughts_fit(rows, network)
    assert (summary.rows_read, summary.rows_labelled, summary.rows_skipped) == (5, 5, {})
    assert summary.messages == 12 and summary.chunks == 3
    assert summary.thoughts == sum(len(m["thoughts"]) for r in rows for m in r["messages"])
    assert summary.thoughts == summary.thoughts_scored + summary.thoughts_from_cache

    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["schema_names"] == SCHEMA.names
    assert manifest["schema"]["dimensions"][SCHEMA.index("valence")]["range"] == [-1.0, 1.0]
    assert manifest["segmenter"] == network.segmenter.__dict__
    assert manifest["row_format"] == "chat" and manifest["input_kind"] == "jsonl"
    assert manifest["counts"]["thoughts"] == summary.thoughts
    assert manifest["network"]["encoder_ref"] == network.encoder_ref
    assert not (tmp_path / "out" / "parts").exists()  # the parts are in labelled.jsonl now


def test_csv_instruction_puts_the_input_under_the_instruction(network, tmp_path):
    pd.DataFrame(
        {
            "instruction": ["Translate to French.", "Name a sad song."],
            "input": ["Good morning.", ""],
            "output": ["Bonjour.", "Yesterday, by the Beatles."],
        }
    ).to_csv(tmp_path / "tasks.csv", index=False)
    label_file(tmp_path / "tasks.csv", tmp_path / "out", network, progress=False)
    rows = read_labelled(tmp_path / "out")
    assert [m["content"] for m in rows[0]["messages"]] == [
        "Translate to French.\n\nGood morning.",
        "Bonjour.",
    ]
    assert [m["content"] for m in rows[1]["messages"]] == [
        "Name a sad song.",
        "Yesterday, by the Beatles.",
    ]
    assert [m["role"] for m in rows[1]["messages"]] == ["user", "assistant"]
    assert rows[0]["input"] == "Good morning."  # original columns are kept
    assert_thoughts_fit(rows, network)


def test_parquet_prompt_response_counts_nan_as_a_skip(network, tmp_path):
    pd.DataFrame(
        {
            "prompt": ["Tell me a joke.", "How do I say goodbye?", "Any advice?"],
            "completion": [
                "Why did the chicken cross the road? To get away.",
                math.nan,
                "Sleep well. Eat well.",
            ],
            "score": [0.5, 1.0, math.nan],
        }
    ).to_parquet(tmp_path / "pairs.parquet")
    summary = label_file(tmp_path / "pairs.parquet", tmp_path / "out", network, progress=False)
    assert summary.rows_skipped == {"missing content": 1}
    rows = read_labelled(tmp_path / "out")
    assert [r["prompt"] for r in rows] == ["Tell me a joke.", "Any advice?"]
    assert rows[1]["score"] is None  # NaN cells become JSON null, never a bare NaN
    assert rows[1]["messages"][1]["content"] == "Sleep well. Eat well."
    assert_thoughts_fit(rows, network)


def test_datasets_save_to_disk_folder(network, tmp_path):
    import datasets

    datasets.Dataset.from_list(CHAT).save_to_disk(str(tmp_path / "ds"))
    summary = label_file(tmp_path / "ds", tmp_path / "out", network, progress=False, chunk_rows=2)
    rows = read_labelled(tmp_path / "out")
    assert summary.rows_labelled == 5 and [r["id"] for r in rows] == [1, 2, 3, 4, 5]
    assert_thoughts_fit(rows, network)
    assert json.loads((tmp_path / "out" / "manifest.json").read_text())["input_kind"] == "datasets"
    # Reading the folder leaves it as it was, so the same job is recognised as finished.
    again = label_file(tmp_path / "ds", tmp_path / "out", network, progress=False, chunk_rows=2)
    assert again.chunks_resumed == again.chunks == 3

    two = datasets.DatasetDict(
        {
            "train": datasets.Dataset.from_list(CHAT[:2]),
            "test": datasets.Dataset.from_list(CHAT[2:]),
        }
    )
    two.save_to_disk(str(tmp_path / "dd"))
    with pytest.raises(DataError, match=r"splits \['train', 'test'\].*dd/train"):
        label_file(tmp_path / "dd", tmp_path / "out2", network, progress=False)


def test_json_list_and_tsv_inputs(network, tmp_path):
    (tmp_path / "rows.json").write_text(json.dumps(CHAT[:2]), encoding="utf-8")
    assert (
        label_file(tmp_path / "rows.json", tmp_path / "a", network, progress=False).rows_labelled
        == 2
    )
    pd.DataFrame({"prompt": ["Hi. Who are you?"], "response": ["A helper."]}).to_csv(
        tmp_path / "rows.tsv", sep="\t", index=False
    )
    label_file(tmp_path / "rows.tsv", tmp_path / "b", network, progress=False)
    assert read_labelled(tmp_path / "b")[0]["messages"][1]["content"] == "A helper."
    # A CSV cell can hold the messages as JSON text.
    pd.DataFrame({"messages": [json.dumps(CHAT[0]["messages"])]}).to_csv(
        tmp_path / "chat.csv", index=False
    )
    label_file(tmp_path / "chat.csv", tmp_path / "c", network, progress=False)
    assert (
        read_labelled(tmp_path / "c")[0]["messages"][0]["content"]
        == CHAT[0]["messages"][0]["content"]
    )


def test_hh_transcripts_become_alternating_stripped_turns():
    text = "\n\nHuman: Can you help me?  \n\nAssistant:   Sure. What is it?\n\nHuman: Nothing."
    assert parse_hh_transcript(text) == [
        {"role": "user", "content": "Can you help me?"},
        {"role": "assistant", "content": "Sure. What is it?"},
        {"role": "user", "content": "Nothing."},
    ]
    with pytest.raises(SkipRow, match="not an HH transcript"):
        parse_hh_transcript("Just a sentence, no turns.")
    with pytest.raises(SkipRow, match="empty message"):
        parse_hh_transcript("\n\nHuman: Hi\n\nAssistant:")
    row = {
        "chosen": "\n\nHuman: Hi\n\nAssistant: Hello.",
        "rejected": "\n\nHuman: Hi\n\nAssistant:  ",
    }
    with pytest.raises(SkipRow, match=r"empty message \(rejected\)"):
        conversations_of(row, "hh")
    # Copies that store the dialogues as message lists are read as they are.
    listed = {
        "chosen": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello."}]
    }
    assert conversations_of(listed, "hh") == {"messages": listed["chosen"]}


def test_hh_gzip_jsonl_labels_chosen_and_rejected(network, tmp_path, predicted):
    shared = "\n\nHuman: My neighbour is loud. What should I do?\n\nAssistant: Talk to them."
    rows = [
        {
            "chosen": shared + "\n\nHuman: And if that fails?\n\nAssistant: Ask the landlord.",
            "rejected": shared + "\n\nHuman: And if that fails?\n\nAssistant: Break a window.",
        },
        {
            "chosen": "\n\nHuman: Hi\n\nAssistant: Hello! How can I help?",
            "rejected": "\n\nHuman: Hi\n\nAssistant:",
        },  # empty reply: the whole row goes
    ]
    with gzip.open(tmp_path / "hh.jsonl.gz", "wt", encoding="utf-8") as handle:
        handle.write("".join(json.dumps(r) + "\n" for r in rows))
    summary = label_file(tmp_path / "hh.jsonl.gz", tmp_path / "out", network, progress=False)
    assert summary.rows_skipped == {"empty message (rejected)": 1}
    (row,) = read_labelled(tmp_path / "out")
    assert row["chosen"] == rows[0]["chosen"]
    assert [m["content"] for m in row["messages"]] == [
        "My neighbour is loud. What should I do?",
        "Talk to them.",
        "And if that fails?",
        "Ask the landlord.",
    ]
    assert [m["role"] for m in row["rejected_messages"]] == ["user", "assistant"] * 2
    assert row["rejected_messages"][-1]["content"] == "Break a window."
    assert_thoughts_fit([row], network, keys=("messages", "rejected_messages"))
    # The turns both dialogues share are scored once: only "Break a window." is extra.
    scored = [t for call in predicted for t in call]
    assert len(scored) == len(set(scored)) == 6
    assert summary.thoughts == 10 and summary.thoughts_from_cache == 4


def test_self_instruct_instances_give_input_and_output(network, tmp_path):
    rows = [
        {
            "id": "seed_task_0",
            "instruction": "Give the antonym.",
            "is_classification": False,
            "instances": [{"input": "happy", "output": "sad"}, {"input": "x", "output": "y"}],
        },
        {
            "id": "seed_task_1",
            "instruction": "Say something kind.",
            "instances": [{"input": "", "output": "You matter."}],
        },
        {"id": "seed_task_2", "instruction": "Nothing here.", "instances": []},
    ]
    write_jsonl(tmp_path / "seed.jsonl", rows)
    summary = label_file(tmp_path / "seed.jsonl", tmp_path / "out", network, progress=False)
    assert summary.rows_skipped == {"no instances": 1}
    labelled = read_labelled(tmp_path / "out")
    assert [m["content"] for m in labelled[0]["messages"]] == ["Give the antonym.\n\nhappy", "sad"]
    assert [m["content"] for m in labelled[1]["messages"]] == [
        "Say something kind.",
        "You matter.",
    ]
    assert labelled[0]["instances"] == rows[0]["instances"]


# ---- the cache ------------------------------------------------------------------------------


def test_each_distinct_thought_is_scored_once(network, predicted):
    conversations = [
        [
            {"role": "user", "content": "Hello there. Hello there."},
            {"role": "assistant", "content": "Hi! Hello there."},
        ],
        [{"role": "user", "content": "Hi! I lost my keys."}],
    ]
    cache = ThoughtCache()
    labelled = label_conversations(conversations, network, cache)
    assert predicted == [["Hello there.", "Hi!", "I lost my keys."]]
    assert (cache.scored, cache.reused) == (3, 3)
    assert labelled[0][0]["thoughts"][0]["values"] == labelled[0][1]["thoughts"][1]["values"]
    assert conversations[0][0].keys() == {"role", "content"}  # inputs are not modified

    again = label_conversations(conversations, network, cache)
    assert len(predicted) == 1 and again == labelled  # everything came from the cache
    assert cache.lookup("Hi!") == tuple(labelled[0][1]["thoughts"][0]["values"])


def test_thoughts_repeated_across_chunks_are_not_scored_again(network, tmp_path, predicted):
    write_jsonl(tmp_path / "chat.jsonl", CHAT)
    summary = label_file(
        tmp_path / "chat.jsonl", tmp_path / "out", network, chunk_rows=1, progress=False
    )
    scored = [t for call in predicted for t in call]
    assert len(scored) == len(set(scored)) == summary.thoughts_scored
    assert "Hello there." in scored and "You are kind." in scored
    # The repeated greeting (twice), system prompt and question.
    assert summary.thoughts_from_cache == 4


def test_label_conversations_refuses_what_is_not_a_conversation(network):
    with pytest.raises(DataError, match="wrap a single conversation in a list"):
        label_conversations({"role": "user", "content": "Hi."}, network)
    with pytest.raises(DataError, match="conversation #1 message #2 has no text 'content'"):
        label_conversations([[{"role": "user", "content": "Hi."}, {"role": "assistant"}]], network)


# ---- resuming -------------------------------------------------------------------------------


@pytest.mark.parametrize("crash", [RuntimeError("disk on fire"), KeyboardInterrupt()])
def test_resume_after_a_crash_matches_an_uninterrupted_run(
    network, tmp_path, monkeypatch, predicted, crash
):
    rows = CHAT + [{"id": 6, "messages": [{"role": "user", "content": "Hello there."}]}]
    write_jsonl(tmp_path / "chat.jsonl", rows)
    whole = label_file(
        tmp_path / "chat.jsonl", tmp_path / "whole", network, chunk_rows=2, progress=False
    )
    predicted.clear()

    real = labeller.label_conversations
    calls = {"n": 0}

    def crash_on_second_chunk(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise crash
        return real(*args, **kwargs)

    monkeypatch.setattr(labeller, "label_conversations", crash_on_second_chunk)
    out = tmp_path / "resumed"
    with pytest.raises(type(crash)):
        label_file(tmp_path / "chat.jsonl", out, network, chunk_rows=2, progress=False)
    # Exactly the first chunk survives, whole; nothing half-written is left behind.
    assert sorted(p.name for p in (out / "parts").iterdir()) == [
        "part-00000.json",
        "part-00000.jsonl",
    ]
    assert not (out / "labelled.jsonl").exists()
    with pytest.raises(DataError, match="labelling not finished, rerun maiga label"):
        read_labelled(out)
    first_chunk = {t for call in predicted for t in call}
    predicted.clear()

    monkeypatch.setattr(labeller, "label_conversations", real)
    resumed = label_file(tmp_path / "chat.jsonl", out, network, chunk_rows=2, progress=False)
    rescored = [t for call in predicted for t in call]
    assert not first_chunk & set(rescored)
    assert len(first_chunk) + len(rescored) == whole.thoughts_scored
    assert (out / "labelled.jsonl").read_bytes() == (
        tmp_path / "whole" / "labelled.jsonl"
    ).read_bytes()
    assert [r["id"] for r in read_labelled(out)] == [1, 2, 3, 4, 5, 6]
    assert resumed.chunks_resumed == 1 and resumed.scored_this_run == len(rescored)
    same = (
        "rows_read",
        "rows_labelled",
        "rows_skipped",
        "messages",
        "thoughts",
        "thoughts_scored",
        "thoughts_from_cache",
    )
    assert {k: getattr(resumed, k) for k in same} == {k: getattr(whole, k) for k in same}


def test_a_finished_job_is_not_redone(network, tmp_path, predicted):
    write_jsonl(tmp_path / "chat.jsonl", CHAT)
    first = label_file(tmp_path / "chat.jsonl", tmp_path / "out", network, progress=False)
    n_calls = len(predicted)
    again = label_file(tmp_path / "chat.jsonl", tmp_path / "out", network, progress=False)
    assert len(predicted) == n_calls and again.scored_this_run == 0
    assert again.thoughts == first.thoughts and again.rows_labelled == 5


def test_other_settings_in_the_same_out_are_refused(network, tmp_path):
    write_jsonl(tmp_path / "chat.jsonl", CHAT)
    label_file(tmp_path / "chat.jsonl", tmp_path / "out", network, chunk_rows=2, progress=False)
    with pytest.raises(ConfigError, match=r"chunk_rows 2 -> 3.*new --out.*--overwrite"):
        label_file(
            tmp_path / "chat.jsonl", tmp_path / "out", network, chunk_rows=3, progress=False
        )
    write_jsonl(tmp_path / "chat.jsonl", CHAT[:3])
    with pytest.raises(ConfigError, match="input differs"):
        label_file(
            tmp_path / "chat.jsonl", tmp_path / "out", network, chunk_rows=2, progress=False
        )
    summary = label_file(
        tmp_path / "chat.jsonl",
        tmp_path / "out",
        network,
        chunk_rows=3,
        progress=False,
        overwrite=True,
    )
    assert summary.rows_labelled == 3 and len(read_labelled(tmp_path / "out")) == 3


# ---- bad input ------------------------------------------------------------------------------


def test_unknown_columns_say_what_was_found_and_what_is_expected(network, tmp_path):
    write_jsonl(tmp_path / "qa.jsonl", [{"question": "Why?", "answer": "Because."}])
    with pytest.raises(DataError) as caught:
        label_file(tmp_path / "qa.jsonl", tmp_path / "out", network, progress=False)
    message = str(caught.value)
    for part in (
        "['question', 'answer']",
        "chat:",
        "instruction:",
        "prompt_response:",
        "hh:",
        "'prompt' and 'response'",
        "--messages-column",
        "--format",
    ):
        assert part in message
    with pytest.raises(DataError, match=r"format 'hh', which needs 'chosen'.*\['question'"):
        label_file(tmp_path / "qa.jsonl", tmp_path / "out", network, format="hh", progress=False)
    with pytest.raises(DataError, match="unknown; choose one of"):
        label_file(
            tmp_path / "qa.jsonl", tmp_path / "out", network, format="alpaca", progress=False
        )


def test_messages_column_can_be_named(network, tmp_path):
    write_jsonl(tmp_path / "conv.jsonl", [{"conversation": CHAT[0]["messages"]}])
    label_file(
        tmp_path / "conv.jsonl",
        tmp_path / "out",
        network,
        messages_column="conversation",
        progress=False,
    )
    assert len(read_labelled(tmp_path / "out")[0]["messages"]) == 2


def test_bad_rows_are_skipped_and_counted_by_reason(network, tmp_path):
    good = CHAT[0]
    lines = (
        [json.dumps(good)]
        + [
            json.dumps({"messages": m})
            for m in (
                [{"role": "user", "content": "Fine."}, {"role": "assistant", "content": ""}],
                [{"role": "user", "content": "   \n"}],
                [{"role": "user", "content": 5}],
                [{"content": "No role."}],
                [{"role": "user"}],
                "just a string",
                [],
            )
        ]
        + ['{"messages": [{"role": "user", "content": NaN}]}', '{"messages": [', "[1, 2]"]
    )
    (tmp_path / "bad.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    summary = label_file(tmp_path / "bad.jsonl", tmp_path / "out", network, progress=False)
    assert summary.rows_read == 11 and summary.rows_labelled == 1
    assert summary.rows_skipped == {
        "empty message": 2,
        "non-string content": 1,
        "message without role or content": 2,
        "messages not a list": 1,
        "no messages": 1,
        "missing content": 1,
        "invalid JSON line": 1,
        "not a JSON object": 1,
    }
    counts = json.loads((tmp_path / "out" / "manifest.json").read_text())["counts"]
    assert counts["rows_skipped"] == summary.rows_skipped
    assert [r["id"] for r in read_labelled(tmp_path / "out")] == [1]


def test_messages_over_max_chars_are_skipped(network, tmp_path, monkeypatch):
    monkeypatch.setattr(network, "segmenter", replace(network.segmenter, max_chars=31))
    write_jsonl(tmp_path / "chat.jsonl", CHAT[:3])
    summary = label_file(tmp_path / "chat.jsonl", tmp_path / "out", network, progress=False)
    assert summary.rows_skipped == {"message over 31 characters": 2}


def test_inputs_that_cannot_be_read(network, tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        label_file(tmp_path / "nope.jsonl", tmp_path / "out", network, progress=False)
    (tmp_path / "data.xlsx").write_text("x")
    with pytest.raises(DataError, match="suffix '.xlsx'"):
        label_file(tmp_path / "data.xlsx", tmp_path / "out", network, progress=False)
    (tmp_path / "list.jsonl").write_text(json.dumps(CHAT), encoding="utf-8")
    with pytest.raises(DataError, match="should be named .json"):
        label_file(tmp_path / "list.jsonl", tmp_path / "out", network, progress=False)
    (tmp_path / "folder").mkdir()
    with pytest.raises(DataError, match="not one written by datasets' save_to_disk"):
        label_file(tmp_path / "folder", tmp_path / "out", network, progress=False)
    write_jsonl(tmp_path / "chat.jsonl", CHAT)
    with pytest.raises(ConfigError, match="chunk_rows is 0"):
        label_file(tmp_path / "chat.jsonl", tmp_path / "out", network, chunk_rows=0)


def test_read_labelled_checks_every_span(tmp_path):
    row = {
        "messages": [
            {
                "role": "user",
                "content": "Hi.",
                "thoughts": [{"start": 0, "end": 3, "values": [0.1, 0.2]}],
            }
        ]
    }
    path = tmp_path / "labelled.jsonl"
    write_jsonl(path, [row])
    assert read_labelled(path) == [row]
    row["messages"][0]["thoughts"][0]["end"] = 9
    write_jsonl(path, [row, row])
    with pytest.raises(DataError, match=r"line 1, messages #1, thought #1 has span \[0, 9\)"):
        read_labelled(path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="not a labelled dataset"):
        read_labelled(tmp_path / "empty")
    with pytest.raises(DataError, match="does not exist"):
        read_labelled(tmp_path / "missing.jsonl")


# ---- the command ----------------------------------------------------------------------------


def test_label_command_end_to_end(network, tmp_path):
    app = typer.Typer()
    app.command("label")(label_command)

    @app.callback()
    def main() -> None:  # a group, so that "label" stays a sub-command as in maiga's app
        pass

    runner = CliRunner()
    save_network(network, tmp_path / "net")
    rows = CHAT[:3] + [{"messages": [{"role": "user", "content": ""}]}]
    write_jsonl(tmp_path / "chat.jsonl", rows)
    args = [
        "label",
        str(tmp_path / "chat.jsonl"),
        "--out",
        str(tmp_path / "out"),
        "--network",
        str(tmp_path / "net"),
        "--chunk-rows",
        "2",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    assert "Labelled 3 of 4 rows" in output and "1 rows skipped" in output
    assert "'empty message': 1" in output
    labelled = read_labelled(tmp_path / "out")
    assert len(labelled) == 3
    assert json.loads((tmp_path / "out" / "manifest.json").read_text())["network"]["path"] == str(
        tmp_path / "net"
    )

    again = runner.invoke(app, args)
    assert again.exit_code == 0 and "kept 2 of 2 chunks" in " ".join(again.output.split())

    bad = runner.invoke(
        app, args[:2] + ["--out", str(tmp_path / "o2"), "--network", str(tmp_path / "nowhere")]
    )
    assert bad.exit_code == 2
    assert "not an emotional network folder" in " ".join(bad.output.split())
    changed = runner.invoke(app, args[:-1] + ["3"])
    assert changed.exit_code == 2 and "--overwrite" in changed.output
    assert "Traceback" not in changed.output


# ---- the real shared data -------------------------------------------------------------------


@pytest.mark.slow
def test_real_hh_rlhf_and_self_instruct(network, tmp_path, data_dir):
    hh = data_dir / "hh-rlhf" / "harmless-base" / "test.jsonl.gz"
    summary = label_file(hh, tmp_path / "hh", network, limit=12, chunk_rows=5, progress=False)
    assert summary.rows_read == 12 and summary.chunks == 3
    rows = read_labelled(tmp_path / "hh")
    assert len(rows) + summary.n_skipped == 12
    for row in rows:
        assert row["messages"][0]["role"] == "user"
        assert "Human:" not in row["messages"][0]["content"]
        assert row["messages"][-1]["role"] == "assistant"
        assert row["rejected_messages"][-1]["role"] == "assistant"
    assert_thoughts_fit(rows, network, keys=("messages", "rejected_messages"))
    assert summary.thoughts_from_cache > 0  # chosen and rejected share their first turns

    seeds = data_dir / "self-instruct" / "seed_tasks.jsonl"
    summary = label_file(seeds, tmp_path / "seeds", network, limit=6, progress=False)
    rows = read_labelled(tmp_path / "seeds")
    assert summary.rows_labelled == 6 and rows[0]["id"] == "seed_task_0"
    first = json.loads(seeds.read_text("utf-8").splitlines()[1])
    instance = first["instances"][0]
    assert rows[1]["messages"][0]["content"] == f"{first['instruction']}\n\n{instance['input']}"
    assert rows[1]["messages"][1]["content"] == instance["output"]
    assert_thoughts_fit(rows, network)


def test_text_with_lone_surrogates_is_a_counted_skip():
    from maiga.label.formats import SkipRow, conversations_of

    with pytest.raises(SkipRow, match="not valid UTF-8"):
        conversations_of({"prompt": "caf\udce9.", "response": "ok."}, "prompt_response")
