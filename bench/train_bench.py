"""Training throughput: `tuneline train` vs a plain transformers Trainer + peft script.

Same model (the demo model), same data (generated multi-turn support chats of very different
lengths), same LoRA settings, batch size and number of optimizer steps. The baseline uses
the default padding collation (DataCollatorForSeq2Seq, random batches). Each side runs in its
own process; we report real (non-padding) tokens per second of training and the process's peak
RSS, and the ratio. Target: ≥ 1.5× the baseline's tokens/s with no more memory.

Usage: python bench/train_bench.py [--steps 30] [--batch-size 8] [--repeat 1] [--threads N]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

LORA = {"r": 16, "alpha": 32, "dropout": 0.05,
        "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj"]}
LR = 1e-3
MAX_LEN = 512


def write_data(path: Path, n: int, seed: int = 0) -> Path:
    """Chats of 1–12 question/answer turns: lengths from ~60 to ~900 tokens."""
    from tuneline.train.demo_corpus import SYSTEM, support_conversations

    rng = random.Random(seed)
    pool = support_conversations(n * 4, seed=seed + 1)
    with open(path, "w", encoding="utf-8") as fh:
        for _ in range(n):
            turns = min(12, int(rng.paretovariate(1.2)))
            msgs = [{"role": "system", "content": SYSTEM}]
            for chat in rng.sample(pool, turns):
                msgs += [m for m in chat if m["role"] != "system"][:2]
            fh.write(json.dumps({"messages": msgs}) + "\n")
    return path


def run_child(cmd: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    """(peak RSS MB, exit code, stdout) of one child process."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env=env)
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    return usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status), out


def tuneline_side(work: Path, model: Path, data: Path, steps: int, batch: int,
                  env: dict[str, str], packing: bool) -> dict[str, Any]:
    cfg = {"base_model": str(model), "train_file": str(data), "max_steps": steps,
           "batch_size": batch, "learning_rate": LR, "max_seq_length": MAX_LEN,
           "packing": packing, "group_by_length": True, "save_steps": 0, "eval_steps": 0,
           "lint": False, "seed": 42, **LORA}  # training only: lint is not what we measure
    path = work / "train.toml"
    path.write_text("".join(f"{k} = {json.dumps(v)}\n" for k, v in cfg.items()))
    runs = work / "runs"
    before = set(runs.iterdir()) if runs.exists() else set()
    rss, code, _ = run_child([sys.executable, "-m", "tuneline", "train", str(path), "--json",
                              "--runs-dir", str(runs)], env)
    if code != 0:
        raise SystemExit(f"tuneline train failed ({code})")
    (run,) = set(runs.iterdir()) - before
    summary = json.loads((run / "summary.json").read_text())
    sizes = next(json.loads(line) for line in (run / "events.jsonl").read_text().splitlines()
                 if '"examples"' in line and '"tokens"' in line)
    return {"tokens": summary["tokens"], "seconds": summary["train_seconds"], "rss": rss,
            "mean_length": sizes["tokens"] / sizes["examples"]}


def baseline_side(model: Path, data: Path, steps: int, batch: int,
                  env: dict[str, str]) -> dict[str, Any]:
    rss, code, out = run_child([sys.executable, __file__, "--baseline", str(model), str(data),
                                "--steps", str(steps), "--batch-size", str(batch)], env)
    if code != 0:
        raise SystemExit(f"baseline failed ({code})")
    result = json.loads(out.strip().splitlines()[-1])
    return {**result, "rss": rss}


def baseline(model: Path, data: Path, steps: int, batch: int) -> None:
    """The plain recipe: tokenize with the chat template, Trainer + DataCollatorForSeq2Seq."""
    import logging

    logging.getLogger("bitsandbytes").setLevel(logging.ERROR)
    from datasets import Dataset
    from peft import LoraConfig, get_peft_model
    from transformers import (
        AutoModelForCausalLM,
        AutoTokenizer,
        DataCollatorForSeq2Seq,
        Trainer,
        TrainerCallback,
        TrainingArguments,
    )

    class Clock(TrainerCallback):
        """Training time as tuneline measures it: first step start to last step end."""

        def on_train_begin(self, *_: Any, **__: Any) -> None:
            self.start = time.monotonic()

        def on_train_end(self, *_: Any, **__: Any) -> None:
            self.seconds = time.monotonic() - self.start

    tok = AutoTokenizer.from_pretrained(str(model))
    rows = []
    for line in data.read_text().splitlines():
        enc = tok.apply_chat_template(json.loads(line)["messages"], return_dict=True,
                                      return_assistant_tokens_mask=True)
        ids, mask = enc["input_ids"], enc["assistant_masks"]
        if len(ids) <= MAX_LEN:
            rows.append({"input_ids": ids, "attention_mask": [1] * len(ids),
                         "labels": [t if m else -100 for t, m in zip(ids, mask, strict=True)]})
    base = AutoModelForCausalLM.from_pretrained(str(model))
    lora = LoraConfig(r=LORA["r"], lora_alpha=LORA["alpha"], lora_dropout=LORA["dropout"],
                      target_modules=LORA["target_modules"], task_type="CAUSAL_LM")
    peft_model = get_peft_model(base, lora)
    seen = {"tokens": 0}
    collator = DataCollatorForSeq2Seq(tok, label_pad_token_id=-100, padding=True)

    def counting(features: list[dict[str, Any]]) -> dict[str, Any]:
        out = collator(features)
        seen["tokens"] += int(out["attention_mask"].sum())
        return out

    args = TrainingArguments(
        output_dir=str(data.parent / "baseline-out"), per_device_train_batch_size=batch,
        max_steps=steps, learning_rate=LR, lr_scheduler_type="cosine", warmup_steps=int(0.03 * steps),
        logging_steps=10, save_strategy="no", report_to=[], seed=42, disable_tqdm=True,
        use_cpu=not __import__("torch").cuda.is_available())
    clock = Clock()
    trainer = Trainer(model=peft_model, args=args, train_dataset=Dataset.from_list(rows),
                      data_collator=counting, callbacks=[clock])
    trainer.train()
    print(json.dumps({"tokens": seen["tokens"], "seconds": clock.seconds}))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--examples", type=int, default=600)
    ap.add_argument("--repeat", type=int, default=1, help="runs per side (best kept)")
    ap.add_argument("--threads", type=int, help="OMP_NUM_THREADS for both sides")
    ap.add_argument("--model", help="model folder (default: build the demo model)")
    ap.add_argument("--baseline", nargs=2, metavar=("MODEL", "DATA"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.baseline:
        baseline(Path(args.baseline[0]), Path(args.baseline[1]), args.steps, args.batch_size)
        return 0

    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    if args.threads:
        env["OMP_NUM_THREADS"] = str(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        model = Path(args.model).resolve() if args.model else work / "model"
        if not args.model:
            subprocess.run([sys.executable, "-m", "tuneline", "demo-model", str(model)],
                           check=True, stdout=subprocess.DEVNULL, env=env)
        data = write_data(work / "train.jsonl", args.examples)
        results: dict[str, dict[str, Any]] = {}
        probe = tuneline_side(work, model, data, 1, args.batch_size, env, True)
        # rows of MAX_LEN holding about as many real tokens as `batch` average examples
        rows = max(1, round(args.batch_size * probe["mean_length"] / MAX_LEN))
        sides = {
            f"tuneline packing, {args.batch_size} rows": lambda: tuneline_side(
                work, model, data, args.steps, args.batch_size, env, True),
            f"tuneline packing, {rows} rows": lambda: tuneline_side(
                work, model, data, args.steps, rows, env, True),
            f"tuneline length-grouped, {args.batch_size}": lambda: tuneline_side(
                work, model, data, args.steps, args.batch_size, env, False),
            "baseline Trainer": lambda: baseline_side(model, data, args.steps, args.batch_size,
                                                      env)}
        for _ in range(args.repeat):
            for name, side in sides.items():
                r = side()
                r["tps"] = r["tokens"] / r["seconds"]
                if name not in results or r["tps"] > results[name]["tps"]:
                    results[name] = {**r, "rss": max(r["rss"], results.get(name, {}).get("rss", 0))}
        print(f"{args.steps} steps, batch {args.batch_size}, {args.examples} examples "
              f"(mean {probe['mean_length']:.0f} tokens), rows of {MAX_LEN}, {os.cpu_count()} "
              f"CPUs, threads {env.get('OMP_NUM_THREADS', 'default')}")
        for name, r in results.items():
            print(f"{name:>30}: {r['tokens']:>8,} real tokens in {r['seconds']:6.1f} s = "
                  f"{r['tps']:7.0f} tokens/s   peak RSS {r['rss']:5.0f} MB")
        base = results["baseline Trainer"]
        for name, r in results.items():
            if name != "baseline Trainer":
                print(f"{name:>30} / baseline: {r['tps'] / base['tps']:5.2f}× tokens/s "
                      f"(target ≥ 1.5), peak RSS {r['rss'] / base['rss']:.2f}× (target ≤ 1.0)")
    return 0


if __name__ == "__main__":
    started = time.monotonic()
    code = main()
    print(f"(bench took {time.monotonic() - started:.0f} s)", file=sys.stderr)
    sys.exit(code)
