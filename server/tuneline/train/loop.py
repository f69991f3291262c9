"""The training loop: micro-batches, accumulation, schedule, evaluation, checkpoints, cancel.

Read top to bottom: plan the batches, build optimizer and schedule, restore a checkpoint if
resuming, then one optimizer step at a time — emit progress, evaluate, save, and stop cleanly
when cancel is requested. The loss is the mean over every target token of the step (summed
over micro-batches, divided once), so accumulation does not change what is optimised.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tuneline.jobs.cancel import CancelFlag
from tuneline.jobs.events import EventWriter
from tuneline.train import checkpoint as ckpt
from tuneline.train.batches import Plan, collate, padding_fraction, plan_epoch
from tuneline.train.config import TrainConfig
from tuneline.train.data import IGNORE, Tokenized
from tuneline.train.local import ModelSetup, torch_dtype


@dataclass
class LoopResult:
    status: str  # completed | cancelled
    step: int
    total: int
    train_loss: float | None
    eval_loss: float | None
    best_eval_loss: float | None
    tokens: int
    seconds: float
    checkpoint: str | None = None


class Batcher:
    """Micro-batch number → batch, epoch after epoch (plans are cached per epoch)."""

    def __init__(self, examples: list[Tokenized], cfg: TrainConfig, shuffle: bool = True) -> None:
        self.examples = examples
        self.cfg = cfg
        self.shuffle = shuffle
        self.lengths = [len(e) for e in examples]
        self._plans: dict[int, Plan] = {}
        self.per_epoch = len(self.plan(0))

    def plan(self, epoch: int) -> Plan:
        if epoch not in self._plans:
            self._plans = {epoch: plan_epoch(
                self.lengths, batch_size=self.cfg.batch_size,
                max_seq_length=self.cfg.max_seq_length, packing=self.cfg.packing,
                group_by_length=self.cfg.group_by_length, seed=self.cfg.seed, epoch=epoch,
                shuffle=self.shuffle)}
        return self._plans[epoch]

    def batch(self, micro: int, pad_id: int) -> dict[str, Any]:
        epoch, index = divmod(micro, self.per_epoch)
        return collate(self.examples, self.plan(epoch)[index], pad_id, self.cfg.packing)


def total_steps(cfg: TrainConfig, per_epoch: int) -> int:
    if cfg.max_steps:
        return cfg.max_steps
    return max(1, math.ceil(cfg.epochs * per_epoch / cfg.gradient_accumulation))


def make_scheduler(cfg: TrainConfig, optimizer: Any, total: int) -> Any:
    from transformers import get_scheduler

    warmup = int(cfg.warmup_ratio * total)
    name = cfg.lr_scheduler
    if name == "constant":
        name = "constant_with_warmup" if warmup else "constant"
    return get_scheduler(name, optimizer, num_warmup_steps=warmup, num_training_steps=total)


def batch_loss(model: Any, batch: dict[str, Any], device: str) -> Any:
    """Summed cross-entropy over the batch's target tokens.

    The labels are shifted rather than the logits, so the (large) logits are never copied.
    """
    import torch.nn.functional as F

    inputs = {k: batch[k].to(device) for k in ("input_ids", "attention_mask", "position_ids")
              if k in batch}
    logits = model(**inputs, use_cache=False).logits
    targets = F.pad(batch["labels"][:, 1:], (0, 1), value=IGNORE).to(device)
    return F.cross_entropy(logits.view(-1, logits.size(-1)).float(), targets.reshape(-1),
                           ignore_index=IGNORE, reduction="sum")


def evaluate(setup: ModelSetup, batcher: Batcher, autocast: Any) -> float:
    """Mean loss per target token over the whole eval set."""
    import torch

    model = setup.model
    model.eval()
    total = count = 0.0
    with torch.no_grad(), autocast():
        for index in range(batcher.per_epoch):
            batch = batcher.batch(index, setup.tokenizer.pad_token_id)
            total += float(batch_loss(model, batch, setup.device))
            count += batch["targets"]
    model.train()
    return total / max(count, 1)


def run_loop(setup: ModelSetup, cfg: TrainConfig, train: list[Tokenized],
             evals: list[Tokenized], events: EventWriter, checkpoints: Path, cancel: CancelFlag,
             resume_from: Path | None = None,
             on_state: Callable[..., None] | None = None) -> LoopResult:
    """Train until the last step or a cancel request; emits progress/metric/checkpoint events."""
    import torch

    on_state = on_state or (lambda **_: None)
    device, model = setup.device, setup.model
    batcher = Batcher(train, cfg)
    eval_batcher = Batcher(evals, cfg, shuffle=False) if evals else None
    total = total_steps(cfg, batcher.per_epoch)
    accum = cfg.gradient_accumulation

    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=cfg.learning_rate, weight_decay=cfg.weight_decay)
    scheduler = make_scheduler(cfg, optimizer, total)
    scaler = torch.amp.GradScaler(device) if setup.precision == "fp16" else None
    lowp = setup.precision in ("bf16", "fp16") and cfg.method != "qlora"

    def autocast() -> Any:
        if not lowp:
            return nullcontext()
        return torch.autocast(device_type=device, dtype=torch_dtype(setup.precision))

    step, tokens, best = 0, 0, None
    if resume_from is not None:
        state = ckpt.restore(resume_from, optimizer, scheduler, scaler)
        step, tokens, best = state["step"], state.get("tokens", 0), state.get("best_eval_loss")
        events.log(f"resumed from {resume_from.name} at step {step}/{total}", step=step)
    events.log(f"{len(train)} training examples in {batcher.per_epoch} batches per epoch "
               f"({padding_fraction(batcher.plan(0), batcher.lengths):.0%} padding); "
               f"{total} steps", examples=len(train), total=total)

    model.train()
    started, start_step = time.monotonic(), step
    log_tokens, log_seconds, log_losses = 0, 0.0, []
    train_loss = eval_loss = None
    saved: str | None = None
    status = "cancelled" if cancel.requested else "completed"
    while status == "completed" and step < total:
        step_started = time.monotonic()
        micro = [batcher.batch(step * accum + k, setup.tokenizer.pad_token_id)
                 for k in range(accum)]
        targets = sum(b["targets"] for b in micro)
        step_loss = 0.0
        for batch in micro:
            with autocast():
                loss = batch_loss(model, batch, device) / max(targets, 1)
            (scaler.scale(loss) if scaler else loss).backward()
            step_loss += float(loss.detach())
        if scaler:
            scaler.unscale_(optimizer)
        if cfg.max_grad_norm:
            torch.nn.utils.clip_grad_norm_(params, cfg.max_grad_norm)
        lr = scheduler.get_last_lr()[0]
        if scaler:
            scaler.step(optimizer)
            scaler.update()
        else:
            optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1
        step_tokens = sum(b["tokens"] for b in micro)
        tokens += step_tokens
        log_tokens += step_tokens
        log_seconds += time.monotonic() - step_started
        log_losses.append(step_loss)
        train_loss = step_loss

        if step % cfg.logging_steps == 0 or step == total:
            elapsed = time.monotonic() - started
            eta = (total - step) * elapsed / (step - start_step)
            events.emit("progress", step=step, total=total,
                        loss=round(sum(log_losses) / len(log_losses), 6), learning_rate=lr,
                        tokens_per_second=round(log_tokens / max(log_seconds, 1e-9), 1),
                        eta_seconds=round(eta, 1), epoch=round(step * accum / batcher.per_epoch, 3),
                        tokens=tokens)
            on_state(step=step, total=total, loss=train_loss)
            log_tokens, log_seconds, log_losses = 0, 0.0, []

        if eval_batcher and ((cfg.eval_steps and step % cfg.eval_steps == 0) or step == total):
            eval_loss = evaluate(setup, eval_batcher, autocast)
            best = eval_loss if best is None else min(best, eval_loss)
            events.emit("metric", step=step, metrics={
                "eval_loss": round(eval_loss, 6),
                "eval_perplexity": round(math.exp(min(eval_loss, 50)), 4)})
            on_state(best_eval_loss=best, eval_loss=eval_loss)

        if cancel.requested and step < total:
            status = "cancelled"
        if status == "cancelled" or (cfg.save_steps and step % cfg.save_steps == 0 and step < total):
            path = ckpt.save_checkpoint(checkpoints, step, model, optimizer, scheduler, scaler,
                                        {"total": total, "tokens": tokens, "best_eval_loss": best,
                                         "method": cfg.method}, cfg.save_total_limit)
            saved = str(path)
            events.emit("checkpoint", step=step, path=saved,
                        reason="cancel" if status == "cancelled" else "interval")
    return LoopResult(status, step, total, train_loss, eval_loss, best, tokens,
                      time.monotonic() - started, saved)
