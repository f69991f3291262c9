"""Data: formats → messages, chat-template tokenisation, assistant-only labels, weight 0,
too-long examples, packing and batching."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from train_helpers import SUPPORT

from tuneline.train import data as td
from tuneline.train.batches import collate, pack_bfd, padding_fraction, plan_epoch

CHAT = [{"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Where is my order?"},
        {"role": "assistant", "content": "It ships today."}]


@pytest.mark.parametrize(("record", "expected"), [
    ({"messages": CHAT}, CHAT),
    ({"prompt": "Where is my order?", "completion": "It ships today."}, CHAT[1:]),
    ({"prompt": CHAT[:2], "completion": CHAT[2:]}, CHAT),
    ({"conversations": [{"from": "system", "value": "Be brief."},
                        {"from": "human", "value": "Where is my order?"},
                        {"from": "gpt", "value": "It ships today."}]}, CHAT),
    ({"instruction": "Where is my order?", "output": "It ships today.", "system": "Be brief."},
     CHAT),
    ({"instruction": "Where is", "input": "my order?", "output": "It ships today."},
     [{"role": "user", "content": "Where is\n\nmy order?"}, CHAT[2]]),
])
def test_formats_become_messages(record: dict, expected: list) -> None:
    assert td.to_messages(record) == expected


def test_alpaca_history_and_content_parts() -> None:
    msgs = td.to_messages({"instruction": "q2", "output": "a2", "history": [["q1", "a1"]]})
    assert [m["content"] for m in msgs] == ["q1", "a1", "q2", "a2"]
    parts = td.to_messages({"messages": [{"role": "user", "content": [
        {"type": "text", "text": "a"}, {"type": "image_url", "image_url": {"url": "x"}},
        {"type": "text", "text": "b"}]}]})
    assert parts[0]["content"] == "ab"


@pytest.mark.parametrize(("record", "message"), [
    ({"text": "hello"}, "unknown record format (keys: text)"),
    ({"messages": []}, "non-empty list"),
    ({"messages": [{"role": "assistant", "content": "x", "weight": 2}]}, "weight must be 0 or 1"),
    ({"conversations": [{"from": "robot", "value": "x"}]}, "needs 'from'"),
])
def test_unusable_records(record: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        td.to_messages(record)


def _trained_text(tokenizer: Any, ids: list[int], labels: list[int]) -> str:
    return tokenizer.decode([t for t, lab in zip(ids, labels, strict=True) if lab != td.IGNORE])


def test_labels_cover_exactly_the_assistant_turns(tokenizer: Any) -> None:
    msgs = [*CHAT, {"role": "user", "content": "Thanks"},
            {"role": "assistant", "content": "Any time."}]
    ids, labels = td.tokenize(tokenizer, msgs)
    assert len(ids) == len(labels)
    assert _trained_text(tokenizer, ids, labels) == "It ships today.<|end|>Any time.<|end|>"
    assert labels[0] == td.IGNORE
    # the prompt side (system, user, role markers) is all masked
    masked = tokenizer.decode([t for t, lab in zip(ids, labels, strict=True) if lab == td.IGNORE])
    assert "Where is my order?" in masked and "It ships" not in masked


def test_weight_zero_turns_are_not_trained(tokenizer: Any) -> None:
    msgs = [CHAT[1], {"role": "assistant", "content": "Wrong answer.", "weight": 0},
            {"role": "user", "content": "Again?"},
            {"role": "assistant", "content": "It ships today.", "weight": 1}]
    ids, labels = td.tokenize(tokenizer, msgs)
    assert _trained_text(tokenizer, ids, labels) == "It ships today.<|end|>"
    assert "Wrong answer." in tokenizer.decode(ids)  # still in context, just not a target


def test_whole_conversation_loss_when_asked(tokenizer: Any) -> None:
    ids, labels = td.tokenize(tokenizer, CHAT, assistant_only=False)
    assert labels[1:] == ids[1:] and labels[0] == td.IGNORE


def _write(tmp_path: Path, records: list[Any], name: str = "d.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("".join(r if isinstance(r, str) else json.dumps(r) + "\n" for r in records))
    return path


def test_too_long_examples_are_listed_never_cut(tmp_path: Path, tokenizer: Any) -> None:
    long = {"messages": [CHAT[1], {"role": "assistant", "content": "very long answer " * 60}]}
    path = _write(tmp_path, [{"messages": CHAT}, long, {"messages": CHAT}, long])
    prep = td.prepare(path, tokenizer, max_seq_length=128, too_long="drop")
    assert [e.line for e in prep.examples] == [1, 3]
    assert [line for line, _ in prep.too_long] == [2, 4]
    assert all(n > 128 for _, n in prep.too_long)
    assert all(len(e) <= 128 for e in prep.examples)
    with pytest.raises(td.DataError, match=r"2 example\(s\) longer than max_seq_length 128 "
                                           r"\(lines 2 \(\d+ tokens\), 4"):
        td.prepare(path, tokenizer, max_seq_length=128, too_long="error")


def test_bad_lines_are_all_listed(tmp_path: Path, tokenizer: Any) -> None:
    path = _write(tmp_path, [{"messages": CHAT}, "{not json\n", {"messages": CHAT}, "[1]\n"])
    with pytest.raises(td.DataError) as err:
        td.prepare(path, tokenizer, max_seq_length=256)
    assert "d.jsonl: 2 lines cannot be used:\n  line 2: not valid JSON" in str(err.value)
    assert "line 4: a record must be a JSON object" in str(err.value)
    path = _write(tmp_path, [{"messages": CHAT}, {"text": "x"}, "\n", {"foo": 1}])
    with pytest.raises(td.DataError) as err:
        td.prepare(path, tokenizer, max_seq_length=256)
    assert "2 lines cannot be used" in str(err.value)
    assert "line 2: unknown record format" in str(err.value)
    assert "line 4: unknown record format" in str(err.value)


def test_allow_errors_skips_and_lists_bad_lines(tmp_path: Path, tokenizer: Any) -> None:
    path = _write(tmp_path, [{"messages": CHAT}, "{not json\n", {"text": "x"}, {"messages": CHAT}])
    prep = td.prepare(path, tokenizer, max_seq_length=256, skip_bad=True)
    assert [e.line for e in prep.examples] == [1, 4]
    assert [n for n, _ in prep.skipped] == [2, 3]


def test_examples_with_nothing_to_train_are_reported(tmp_path: Path, tokenizer: Any) -> None:
    silent = {"messages": [CHAT[1], {**CHAT[2], "weight": 0}]}
    prep = td.prepare(_write(tmp_path, [{"messages": CHAT}, silent]), tokenizer,
                      max_seq_length=256)
    assert prep.no_labels == [2] and len(prep.examples) == 1


def test_template_without_generation_markers_is_refused(tokenizer: Any) -> None:
    class Plain:
        name_or_path = "plain-model"
        chat_template = "{% for m in messages %}{{ m['content'] }}{% endfor %}"

    with pytest.raises(td.DataError, match=r"plain-model has no \{% generation %\} markers"):
        td.check_template(Plain(), assistant_only=True)
    td.check_template(Plain(), assistant_only=False)


def test_eval_split_is_seeded_and_disjoint(tokenizer: Any) -> None:
    prep = td.prepare(SUPPORT, tokenizer, max_seq_length=256)
    train, held = td.split_eval(prep.examples, 0.25, seed=1)
    assert len(held) == 6 and len(train) == 18
    assert {e.line for e in train}.isdisjoint({e.line for e in held})
    assert [e.line for e in td.split_eval(prep.examples, 0.25, seed=1)[1]] == [e.line for e in held]


# -- batching ---------------------------------------------------------------------------------
def test_best_fit_decreasing_packs_tightly() -> None:
    # 6 opens a bin, 5 another; 4 fits the fuller one exactly; 3 and 2 fill the other
    assert pack_bfd([6, 5, 4, 3, 2], 10) == [[0, 2], [1, 3, 4]]
    rng = random.Random(0)
    lengths = [rng.randint(10, 200) for _ in range(300)]
    bins = pack_bfd(lengths, 256)
    assert sorted(i for b in bins for i in b) == list(range(300))
    assert all(sum(lengths[i] for i in b) <= 256 for b in bins)
    lower_bound = -(-sum(lengths) // 256)
    assert len(bins) <= lower_bound * 1.05 + 1


def test_plans_are_deterministic_and_cover_every_example() -> None:
    rng = random.Random(1)
    lengths = [rng.randint(5, 120) for _ in range(50)]
    for packing in (True, False):
        kw = {"batch_size": 4, "max_seq_length": 128, "packing": packing,
              "group_by_length": True, "seed": 3}
        e0, e0b, e1 = plan_epoch(lengths, epoch=0, **kw), plan_epoch(lengths, epoch=0, **kw), \
            plan_epoch(lengths, epoch=1, **kw)
        assert e0 == e0b and e0 != e1
        for plan in (e0, e1):
            assert sorted(i for b in plan for row in b for i in row) == list(range(50))


def test_packing_and_grouping_cut_padding() -> None:
    rng = random.Random(2)
    lengths = [rng.choice([rng.randint(20, 60), rng.randint(200, 480)]) for _ in range(400)]
    kw = {"batch_size": 4, "max_seq_length": 512, "seed": 0, "epoch": 0}

    def waste(packing: bool, group: bool) -> float:
        plan = plan_epoch(lengths, packing=packing, group_by_length=group, **kw)
        return padding_fraction(plan, lengths)

    plain = waste(False, False)
    assert plain > 0.4
    assert waste(False, True) < 0.1 and waste(True, True) < 0.1 and waste(True, False) < 0.2
    packed_rows = len(plan_epoch(lengths, packing=True, group_by_length=True, **kw))
    assert packed_rows < len(plan_epoch(lengths, packing=False, group_by_length=True, **kw))


def test_packed_rows_restart_positions_and_keep_examples_apart(tiny_model: Path,
                                                              tokenizer: Any) -> None:
    """A packed row gives every example exactly the logits it gets alone."""
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(str(tiny_model)).eval()
    prep = td.prepare(SUPPORT, tokenizer, max_seq_length=256)
    exs = prep.examples[:3]
    packed = collate(exs, [[0, 1, 2]], tokenizer.pad_token_id, packed=True)
    sizes = [len(e) for e in exs]
    assert packed["position_ids"][0].tolist() == [p for n in sizes for p in range(n)]
    assert packed["tokens"] == sum(sizes) and "attention_mask" not in packed
    with torch.no_grad():
        joint = model(input_ids=packed["input_ids"], position_ids=packed["position_ids"],
                      use_cache=False).logits[0]
        start = 0
        for ex in exs:
            alone = model(input_ids=torch.tensor([ex.input_ids]), use_cache=False).logits[0]
            torch.testing.assert_close(joint[start:start + len(ex)], alone, atol=1e-4, rtol=1e-4)
            start += len(ex)


def test_padded_batches_mask_padding(tokenizer: Any) -> None:
    prep = td.prepare(SUPPORT, tokenizer, max_seq_length=256)
    batch = collate(prep.examples, [[0], [1], [2]], tokenizer.pad_token_id, packed=False)
    lengths = [len(prep.examples[i]) for i in range(3)]
    assert batch["attention_mask"].sum(1).tolist() == lengths
    assert batch["tokens"] == sum(lengths)
    assert (batch["labels"][batch["attention_mask"] == 0] == td.IGNORE).all()
