"""Resumable checkpoints: trainable weights, optimizer, scheduler, RNG state and step count.

`checkpoints/step-000012/` is written under a temporary name and renamed when complete, so a
crash mid-save never leaves a half checkpoint that looks usable.
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path
from typing import Any

STATE_FILE = "trainer_state.json"


def checkpoint_name(step: int) -> str:
    return f"step-{step:06d}"


def save_checkpoint(folder: Path, step: int, model: Any, optimizer: Any, scheduler: Any,
                    scaler: Any, state: dict[str, Any], keep: int) -> Path:
    """Write a checkpoint for `step`; prune to the newest `keep`. Returns its path."""
    import torch

    folder.mkdir(parents=True, exist_ok=True)
    final = folder / checkpoint_name(step)
    tmp = folder / f".{final.name}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    model.save_pretrained(tmp)  # peft: the adapter only; full: the whole model
    torch.save(optimizer.state_dict(), tmp / "optimizer.pt")
    torch.save(scheduler.state_dict(), tmp / "scheduler.pt")
    if scaler is not None:
        torch.save(scaler.state_dict(), tmp / "scaler.pt")
    rng = {"python": random.getstate(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        rng["cuda"] = torch.cuda.get_rng_state_all()
    torch.save(rng, tmp / "rng.pt")
    (tmp / STATE_FILE).write_text(json.dumps({**state, "step": step}, indent=2) + "\n", "utf-8")
    if final.exists():
        shutil.rmtree(final)
    tmp.rename(final)
    _prune(folder, keep)
    return final


def _prune(folder: Path, keep: int) -> None:
    done = sorted((p for p in folder.glob("step-*") if (p / STATE_FILE).exists()),
                  key=lambda p: int(p.name.split("-")[1]))
    for old in done[:-keep] if keep > 0 else []:
        shutil.rmtree(old, ignore_errors=True)


def read_state(path: Path) -> dict[str, Any]:
    return json.loads((path / STATE_FILE).read_text("utf-8"))


def load_trainable(model: Any, path: Path, method: str) -> None:
    """Put the checkpoint's adapter weights into a LoRA model (full models load via from_pretrained)."""
    if method == "full":
        return
    from peft import set_peft_model_state_dict
    from safetensors.torch import load_file

    weights = load_file(str(path / "adapter_model.safetensors"))
    result = set_peft_model_state_dict(model, weights)
    unexpected = [k for k in getattr(result, "unexpected_keys", []) if "lora" in k]
    if unexpected:
        raise RuntimeError(f"checkpoint {path.name} does not fit this model: {unexpected[:3]}")


def restore(path: Path, optimizer: Any, scheduler: Any, scaler: Any) -> dict[str, Any]:
    """Load optimizer, scheduler, scaler and RNG state; returns trainer_state.json."""
    import torch

    optimizer.load_state_dict(torch.load(path / "optimizer.pt", weights_only=False))
    scheduler.load_state_dict(torch.load(path / "scheduler.pt", weights_only=False))
    if scaler is not None and (path / "scaler.pt").exists():
        scaler.load_state_dict(torch.load(path / "scaler.pt", weights_only=False))
    rng = torch.load(path / "rng.pt", weights_only=False)
    random.setstate(rng["python"])
    torch.set_rng_state(rng["torch"])
    if "cuda" in rng and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(rng["cuda"])
    return read_state(path)
