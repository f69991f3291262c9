"""LoRA, QLoRA and full fine-tuning of the tiny model, end to end through `tuneline train`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from train_helpers import SUPPORT, events_of, only_run, progress_of, train_cli, write_config

from tuneline.jobs.events import problems
from tuneline.train.batches import collate
from tuneline.train.data import prepare
from tuneline.train.loop import batch_loss

torch = pytest.importorskip("torch")


def data_loss(model: Any, tokenizer: Any) -> float:
    """Mean loss per assistant token over the whole support fixture."""
    prep = prepare(SUPPORT, tokenizer, max_seq_length=256)
    rows = [[i] for i in range(len(prep.examples))]
    batch = collate(prep.examples, rows, tokenizer.pad_token_id, packed=False)
    with torch.no_grad():
        return float(batch_loss(model.eval(), batch, "cpu")) / batch["targets"]


def prompt_ids(tokenizer: Any, question: str) -> Any:
    enc = tokenizer.apply_chat_template([{"role": "user", "content": question}],
                                        add_generation_prompt=True, return_dict=True)
    return torch.tensor([enc["input_ids"]])


def lora_params(model_dir: Path, r: int, modules: tuple[str, ...]) -> int:
    """r × (in + out) for every adapted projection, from the model's own config."""
    cfg = json.loads((model_dir / "config.json").read_text())
    h, heads, kv = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"]
    d = h // heads
    shapes = {"q_proj": (h, heads * d), "k_proj": (h, kv * d), "v_proj": (h, kv * d),
              "o_proj": (heads * d, h)}
    return cfg["num_hidden_layers"] * sum(r * sum(shapes[m]) for m in modules)


def run(tmp_path: Path, model: Path, *flags: str, **fields: Any) -> tuple[int, Path, list]:
    runs = tmp_path / "runs"
    code = train_cli(str(write_config(tmp_path, model, **fields)), "--json", "--runs-dir",
                     str(runs), *flags)
    run_dir = only_run(runs)
    return code, run_dir, events_of(run_dir)


def falls(events: list[dict]) -> bool:
    """The last two steps' mean loss is clearly below the first two (same batches each pair)."""
    losses = [e["loss"] for e in progress_of(events)]
    return sum(losses[-2:]) < 0.9 * sum(losses[:2])


def log_field(events: list[dict], name: str) -> Any:
    return next(e[name] for e in events if e["type"] == "log" and name in e)


def test_lora_trains_saves_reloads_and_merges(tmp_path: Path, tiny_model: Path,
                                              tokenizer: Any) -> None:
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    code, run_dir, events = run(tmp_path, tiny_model, "--max-steps", "8", merge=True, r=8)
    assert code == 0
    assert all(problems(e) == [] for e in events), [problems(e) for e in events]
    assert events[0]["type"] == "start" and events[-1]["type"] == "end"
    steps = progress_of(events)
    assert [e["step"] for e in steps] == list(range(1, 9)) and steps[-1]["total"] == 8
    assert all(e["tokens_per_second"] > 0 and e["eta_seconds"] >= 0 for e in steps)
    assert falls(events)
    expected = lora_params(tiny_model, 8, ("q_proj", "k_proj", "v_proj", "o_proj"))
    assert log_field(events, "trainable_params") == expected

    adapter = run_dir / "adapter"
    assert json.loads((adapter / "adapter_config.json").read_text())["r"] == 8
    base = AutoModelForCausalLM.from_pretrained(str(tiny_model))
    before = data_loss(base, tokenizer)
    tuned = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(str(tiny_model)),
                                      str(adapter))
    after = data_loss(tuned, tokenizer)
    assert after < before - 0.2  # the adapter learned the new answers
    merged = AutoModelForCausalLM.from_pretrained(str(run_dir / "merged"))
    ids = prompt_ids(tokenizer, "Where is my order #123?")
    with torch.no_grad():
        torch.testing.assert_close(merged(ids).logits, tuned(ids).logits, atol=1e-4, rtol=1e-4)
        assert not torch.allclose(merged(ids).logits, base(ids).logits, atol=1e-3)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["merged"] == str(run_dir / "merged")
    assert json.loads((run_dir / "state.json").read_text())["state"] == "completed"


def test_qlora_trains_on_a_4bit_base(tmp_path: Path, tiny_model: Path, tokenizer: Any) -> None:
    pytest.importorskip("bitsandbytes")
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    code, run_dir, events = run(tmp_path, tiny_model, "--method", "qlora", "--max-steps", "8",
                                merge=True, r=8)
    assert code == 0, events[-1]
    assert next(e["message"] for e in events if "trainable_params" in e).startswith("qlora on ")
    assert log_field(events, "trainable_params") == lora_params(
        tiny_model, 8, ("q_proj", "k_proj", "v_proj", "o_proj"))
    assert falls(events)
    # merged onto the full-precision base: equals that base plus the adapter
    base = AutoModelForCausalLM.from_pretrained(str(tiny_model))
    tuned = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(str(tiny_model)),
                                      str(run_dir / "adapter"))
    merged = AutoModelForCausalLM.from_pretrained(str(run_dir / "merged"))
    assert data_loss(merged, tokenizer) < data_loss(base, tokenizer) - 0.2
    ids = prompt_ids(tokenizer, "Hi")
    with torch.no_grad():
        torch.testing.assert_close(merged(ids).logits, tuned(ids).logits, atol=1e-4, rtol=1e-4)


def test_full_fine_tuning_updates_every_weight(tmp_path: Path, tiny_model: Path,
                                               tokenizer: Any) -> None:
    from transformers import AutoModelForCausalLM

    code, run_dir, events = run(tmp_path, tiny_model, "--method", "full", learning_rate=2e-3)
    assert code == 0, events[-1]
    base = AutoModelForCausalLM.from_pretrained(str(tiny_model))
    total = sum(p.numel() for p in base.parameters())
    assert log_field(events, "trainable_params") == log_field(events, "total_params") == total
    assert falls(events)
    tuned = AutoModelForCausalLM.from_pretrained(str(run_dir / "model"))
    assert data_loss(tuned, tokenizer) < data_loss(base, tokenizer) - 0.2
    assert (run_dir / "model" / "tokenizer.json").exists()


def test_all_linear_adapts_the_mlp_too(tmp_path: Path, tiny_model: Path) -> None:
    code, _, events = run(tmp_path, tiny_model, "--target-modules", "all-linear", max_steps=1)
    assert code == 0
    attention_only = lora_params(tiny_model, 16, ("q_proj", "k_proj", "v_proj", "o_proj"))
    cfg = json.loads((tiny_model / "config.json").read_text())
    mlp = cfg["num_hidden_layers"] * 16 * 3 * (cfg["hidden_size"] + cfg["intermediate_size"])
    assert log_field(events, "trainable_params") == attention_only + mlp


def test_unknown_target_module_is_a_clear_setup_error(tmp_path: Path, tiny_model: Path) -> None:
    code, run_dir, events = run(tmp_path, tiny_model, "--target-modules", "qkv", max_steps=1)
    assert code == 2
    error = events[-1]
    assert error["type"] == "error"
    assert error["message"].startswith("field 'target_modules':")
    assert "q_proj" in error["message"] and "Traceback" not in error["message"]
    assert json.loads((run_dir / "state.json").read_text())["state"] == "failed"


def test_lint_errors_stop_the_run_unless_allowed(tmp_path: Path, tiny_model: Path) -> None:
    lines = SUPPORT.read_text().splitlines()[:12]
    long = json.loads(lines[0])
    long["messages"][-1]["content"] = "This answer goes on and on. " * 40
    data = tmp_path / "data.jsonl"
    data.write_text("\n".join([*lines[:4], json.dumps(long), '{"messages": [', *lines[4:]]) + "\n")

    code, _, events = run(tmp_path, tiny_model, train_file=str(data), lint=True, max_steps=2)
    assert code == 1
    listed = [e for e in events if e["type"] == "log" and e["level"] == "error"]
    assert [(e["line"], e["rule"]) for e in listed][:1] == [(5, "TL401")]
    assert 6 in [e["line"] for e in listed]
    assert "lint error" in events[-1]["message"] and "--allow-errors" in events[-1]["message"]
    assert not any(e["type"] == "progress" for e in events)

    (tmp_path / "runs").rename(tmp_path / "runs-1")
    code, _, events = run(tmp_path, tiny_model, "--allow-errors", train_file=str(data),
                          lint=True, max_steps=2)
    assert code == 0
    dropped = next(e for e in events if "left out, not truncated" in e.get("message", ""))
    assert dropped["lines"] == [5] and dropped["level"] == "warning"
    skipped = next(e for e in events if "skipped (--allow-errors)" in e.get("message", ""))
    assert skipped["lines"] == [6] and "not valid JSON" in skipped["message"]
