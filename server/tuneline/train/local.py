"""The model side of local training: device and precision, loading (full, LoRA, 4-bit QLoRA
through transformers + peft + bitsandbytes), saving the result and merging adapters."""

from __future__ import annotations

import logging
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tuneline.train.config import TrainConfig


class SetupError(RuntimeError):
    """The model cannot be set up as configured; the message says why and what to change."""


def quiet_libraries() -> None:
    """Silence import-time noise: bitsandbytes' missing-'kernels' warning, hub progress bars."""
    logging.getLogger("bitsandbytes").setLevel(logging.ERROR)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    warnings.filterwarnings("ignore", category=FutureWarning, module="transformers")
    warnings.filterwarnings("ignore", category=FutureWarning, module="peft")
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
    except ImportError:  # pragma: no cover
        pass


def resolve_device(preference: str = "auto") -> str:
    """cuda, else mps, else cpu; an explicit choice that is unavailable is an error."""
    import torch

    has = {"cuda": torch.cuda.is_available(),
           "mps": bool(getattr(torch.backends, "mps", None)) and torch.backends.mps.is_available(),
           "cpu": True}
    if preference == "auto":
        return next(d for d in ("cuda", "mps", "cpu") if has[d])
    if not has.get(preference, False):
        raise SetupError(f"device '{preference}' is not available here; use device = \"auto\"")
    return preference


def resolve_precision(device: str, preference: str = "auto") -> str:
    """bf16 where the GPU supports it, else fp16 on GPUs; fp32 on CPU and MPS."""
    import torch

    if preference == "auto":
        if device == "cuda":
            return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
        return "fp32"
    if preference == "fp16" and device == "cpu":
        raise SetupError("precision fp16 is not supported for training on the CPU; use bf16 "
                         "or fp32")
    if preference == "bf16" and device == "cuda" and not torch.cuda.is_bf16_supported():
        raise SetupError("this GPU has no bf16 support; use precision = \"fp16\"")
    return preference


def torch_dtype(precision: str) -> Any:
    import torch

    return {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}[precision]


def check_qlora(device: str) -> None:
    """Refuse QLoRA clearly where bitsandbytes cannot quantize on this device."""
    if device == "mps":
        raise SetupError("QLoRA needs bitsandbytes 4-bit kernels, which do not run on Apple MPS; "
                         "use method = \"lora\"")
    try:
        import bitsandbytes.functional as bnbf
        import torch
    except ImportError as exc:
        raise SetupError(f"QLoRA needs bitsandbytes ({exc}); pip install 'tuneline[train]' "
                         "or use method = \"lora\"") from None
    try:
        bnbf.quantize_4bit(torch.ones(64, 64, device=device), quant_type="nf4")
    except Exception as exc:
        raise SetupError(f"bitsandbytes cannot run 4-bit quantization on {device}: "
                         f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}; "
                         "use method = \"lora\"") from None


@dataclass
class ModelSetup:
    """What training needs from the model side."""

    model: Any
    tokenizer: Any
    device: str
    precision: str
    trainable_params: int
    total_params: int


def load_tokenizer(name: str) -> Any:
    from transformers import AutoTokenizer

    try:
        tok = AutoTokenizer.from_pretrained(name)
    except (OSError, ValueError) as exc:
        raise SetupError(f"cannot load the tokenizer of '{name}': {_first_line(exc)}") from None
    if tok.pad_token_id is None:
        tok.pad_token = tok.eos_token
    return tok


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def count_params(model: Any) -> tuple[int, int]:
    """(trainable, total) parameters; 4-bit packed weights counted as stored."""
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in model.parameters())
    return trainable, total


def seed_everything(seed: int) -> None:
    """Seed Python and torch (CPU and GPU): adapter initialisation, dropout, data order."""
    import random

    import torch

    random.seed(seed)
    torch.manual_seed(seed)


def load_model(cfg: TrainConfig, device: str, precision: str, weights_from: str | None = None
               ) -> ModelSetup:
    """Base model (or a full-fine-tuning checkpoint) with adapters as configured."""
    import torch
    from transformers import AutoModelForCausalLM

    seed_everything(cfg.seed)
    tokenizer = load_tokenizer(cfg.base_model)
    kwargs: dict[str, Any] = {}
    if cfg.method == "qlora":
        check_qlora(device)
        from transformers import BitsAndBytesConfig

        compute = torch.bfloat16 if precision in ("bf16", "fp32") else torch.float16
        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=compute)
        kwargs["device_map"] = {"": device}
        kwargs["dtype"] = compute
    else:
        # Full fine-tuning keeps fp32 master weights (autocast does the rest); a frozen LoRA
        # base can live in the compute dtype on a GPU.
        lowp = cfg.method == "lora" and device != "cpu" and precision != "fp32"
        kwargs["dtype"] = torch_dtype(precision) if lowp else torch.float32
    source = weights_from or cfg.base_model
    try:
        model = AutoModelForCausalLM.from_pretrained(source, **kwargs)
    except (OSError, ValueError) as exc:
        raise SetupError(f"cannot load the model '{source}': {_first_line(exc)}") from None
    if cfg.method != "qlora":
        model.to(device)
    model.config.use_cache = False
    limit = getattr(model.config, "max_position_embeddings", None)
    if limit and cfg.max_seq_length > limit:
        raise SetupError(f"max_seq_length {cfg.max_seq_length} is longer than the model's "
                         f"context ({limit} positions); lower max_seq_length")
    if cfg.method == "qlora":
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(
            model, use_gradient_checkpointing=cfg.gradient_checkpointing,
            gradient_checkpointing_kwargs={"use_reentrant": False})
    elif cfg.gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    if cfg.method in ("lora", "qlora"):
        model = add_lora(model, cfg)
    trainable, total = count_params(model)
    return ModelSetup(model, tokenizer, device, precision, trainable, total)


def add_lora(model: Any, cfg: TrainConfig) -> Any:
    """Wrap `model` with LoRA adapters on `cfg.target_modules`."""
    from peft import LoraConfig, get_peft_model

    lora = LoraConfig(r=cfg.r, lora_alpha=cfg.alpha, lora_dropout=cfg.dropout, bias="none",
                      target_modules=cfg.target_modules, task_type="CAUSAL_LM")
    try:
        return get_peft_model(model, lora)
    except ValueError as exc:
        names = sorted({n.rsplit(".", 1)[-1] for n, m in model.named_modules()
                        if type(m).__name__ in ("Linear", "Linear4bit", "Linear8bitLt")})
        raise SetupError(f"field 'target_modules': {_first_line(exc)}; this model's linear "
                         f"layers are: {', '.join(names)} (or use \"all-linear\")") from None


def save_result(setup: ModelSetup, cfg: TrainConfig, out_dir: Path) -> Path:
    """The adapter (lora/qlora) or the whole model (full), with the tokenizer, in `out_dir`."""
    target = out_dir / ("model" if cfg.method == "full" else "adapter")
    target.mkdir(parents=True, exist_ok=True)
    setup.model.save_pretrained(target)
    setup.tokenizer.save_pretrained(target)
    return target


def merge_adapter(base_model: str, adapter_dir: Path, out_dir: Path) -> Path:
    """Merge an adapter into a full-precision copy of the base model; a standalone folder.

    QLoRA adapters merge onto the unquantized base, so the merged model is not 4-bit."""
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(base_model, dtype="auto")
    merged = PeftModel.from_pretrained(base, str(adapter_dir)).merge_and_unload()
    target = out_dir / "merged"
    merged.save_pretrained(target)
    load_tokenizer(base_model).save_pretrained(target)
    return target
