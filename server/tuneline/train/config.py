"""The training config: one flat TOML table, every field typed, documented and defaulted.

`load_config(path, overrides)` reads the TOML, applies command-line overrides and returns a
validated `TrainConfig` whose paths are absolute. Anything wrong raises `ConfigError` whose
message names the file (or flag) and the field. `json_schema()` is the editor's schema
(`schemas/train-config.schema.json` is generated from it).
"""

from __future__ import annotations

import difflib
import json
import math
import sys
from dataclasses import MISSING, Field, asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ATTENTION_PROJECTIONS = ("q_proj", "k_proj", "v_proj", "o_proj")
METHODS = ("lora", "qlora", "full")
FORMATS = ("auto", "chat", "prompt-completion", "sharegpt", "alpaca")
SCHEDULERS = ("linear", "cosine", "constant")
DEVICES = ("auto", "cuda", "mps", "cpu")
PRECISIONS = ("auto", "bf16", "fp16", "fp32")
TOO_LONG = ("drop", "error")
SCHEMA_ID = "https://tuneline.dev/schemas/train-config.schema.json"

# Names other trainers use for our fields, for "did you mean" hints.
ALIASES = {
    "lora_r": "r", "lora_rank": "r", "rank": "r", "lora_alpha": "alpha",
    "lora_dropout": "dropout", "num_train_epochs": "epochs", "num_epochs": "epochs",
    "lr": "learning_rate", "lr_scheduler_type": "lr_scheduler", "scheduler": "lr_scheduler",
    "per_device_train_batch_size": "batch_size", "micro_batch_size": "batch_size",
    "gradient_accumulation_steps": "gradient_accumulation", "model": "base_model",
    "model_name_or_path": "base_model", "dataset": "train_file", "data_path": "train_file",
    "train_path": "train_file", "validation_file": "eval_file", "val_file": "eval_file",
    "max_length": "max_seq_length", "sequence_len": "max_seq_length", "seq_len": "max_seq_length",
    "val_set_size": "eval_fraction", "warmup": "warmup_ratio", "output": "output_dir",
    "bf16": "precision", "fp16": "precision", "dtype": "precision", "lora_target_modules":
    "target_modules", "completion_only_loss": "assistant_only_loss", "train_on_inputs":
    "assistant_only_loss", "merge_adapter": "merge", "num_steps": "max_steps",
}


class ConfigError(ValueError):
    """A config problem, worded for the user: `train.toml: field 'x': problem`."""


def _f(default: Any, help: str, **meta: Any) -> Any:
    """A dataclass field with its documentation and validation metadata."""
    meta["help"] = help
    if isinstance(default, (list, tuple)):
        return field(default_factory=lambda: list(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass
class TrainConfig:
    """Everything `tuneline train` needs. Paths in a TOML file are relative to that file."""

    method: str = _f("lora", "lora: low-rank adapters on a frozen model; qlora: LoRA on a 4-bit "
                     "(nf4, double-quant) base; full: update every weight.", choices=METHODS)
    base_model: str = _f("", "Base model: a local Hugging Face folder or a hub id (required).",
                         required=True, path="model")
    train_file: str = _f("", "Training data (JSONL: chat messages, prompt/completion, ShareGPT "
                         "or Alpaca) (required).", required=True, path="file")
    eval_file: str | None = _f(None, "Evaluation data in the same formats; default none.",
                               path="file")
    eval_fraction: float = _f(0.0, "Hold out this fraction of train_file for evaluation when no "
                              "eval_file is given (0 = no evaluation).", minimum=0.0, maximum=0.5)
    format: str = _f("auto", "Record format; auto detects it per line.", choices=FORMATS)
    target_modules: list[str] | str = _f(  # noqa: RUF009 (_f returns a default_factory field)
        ATTENTION_PROJECTIONS, "Modules that get LoRA adapters: a list of module names, or "
        "\"all-linear\".")
    r: int = _f(16, "LoRA rank: the adapters' inner dimension (higher = more capacity).",
                minimum=1)
    alpha: float = _f(32.0, "LoRA alpha (the update is scaled by alpha / r).", exclusive_minimum=0)
    dropout: float = _f(0.05, "LoRA dropout.", minimum=0.0, maximum=0.9)
    epochs: float = _f(3.0, "Passes over the training data (ignored when max_steps > 0).",
                       exclusive_minimum=0)
    max_steps: int = _f(0, "Optimizer steps to run; 0 = derive from epochs.", minimum=0)
    learning_rate: float = _f(2e-4, "Peak learning rate.", exclusive_minimum=0)
    lr_scheduler: str = _f("cosine", "Learning-rate schedule after warm-up.", choices=SCHEDULERS)
    warmup_ratio: float = _f(0.03, "Fraction of the steps spent warming up linearly.",
                             minimum=0.0, maximum=0.5)
    weight_decay: float = _f(0.0, "AdamW weight decay.", minimum=0.0)
    max_grad_norm: float = _f(1.0, "Clip gradients to this norm (0 = no clipping).", minimum=0.0)
    batch_size: int = _f(4, "Sequences per micro-batch (packed rows when packing is on).",
                         minimum=1)
    gradient_accumulation: int = _f(1, "Micro-batches per optimizer step.", minimum=1)
    max_seq_length: int = _f(1024, "Longest example in tokens (chat template included); "
                             "longer examples are reported and handled per too_long.", minimum=8)
    too_long: str = _f("drop", "What to do with examples longer than max_seq_length: drop them "
                       "(listed in a warning) or stop with an error. Never truncated.",
                       choices=TOO_LONG)
    packing: bool = _f(True, "Pack several examples into each max_seq_length row (best-fit "
                       "decreasing; attention never crosses examples).")
    group_by_length: bool = _f(True, "Without packing: batch examples of similar length to "
                               "waste less padding.")
    assistant_only_loss: bool = _f(True, "Train only on assistant tokens (honours per-message "
                                   "weight 0/1); false trains on the whole conversation.")
    gradient_checkpointing: bool = _f(False, "Recompute activations in the backward pass: less "
                                      "memory, ~30% slower.")
    seed: int = _f(42, "Random seed (data order, dropout, initialisation).", minimum=0)
    logging_steps: int = _f(1, "Emit a progress event every N steps.", minimum=1)
    eval_steps: int = _f(50, "Evaluate every N steps (and at the end); 0 = only at the end.",
                         minimum=0)
    save_steps: int = _f(100, "Save a resumable checkpoint every N steps; 0 = only on cancel.",
                         minimum=0)
    save_total_limit: int = _f(2, "Checkpoints kept (oldest deleted first).", minimum=1)
    merge: bool = _f(False, "After training, also write the adapter merged into the base model "
                     "(a standalone model folder).")
    output_dir: str | None = _f(None, "Where the adapter (or full model) and merged model go; "
                                "default: the run folder.", path="dir")
    device: str = _f("auto", "auto picks cuda, then mps, then cpu.", choices=DEVICES)
    precision: str = _f("auto", "auto: bf16 where the GPU supports it, else fp16 on GPUs, fp32 "
                        "on CPU/MPS.", choices=PRECISIONS)
    lint: bool = _f(True, "Lint the data with the editor's rules (base model's tokenizer, "
                    "max_seq_length as the token limit) before training.")
    name: str = _f("", "Run name, used in the run id; default: the method.")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def total_batch(self) -> int:
        return self.batch_size * self.gradient_accumulation


FIELDS: dict[str, Field] = {f.name: f for f in fields(TrainConfig)}


def _default(f: Field) -> Any:
    return f.default_factory() if f.default is MISSING else f.default  # type: ignore[misc]


def _kind(f: Field) -> str:
    """The value kind of a field: str, int, float, bool, list or optional-str."""
    t = str(f.type)
    if f.name == "target_modules":
        return "modules"
    if "None" in t:
        return "optstr"
    return {"str": "str", "int": "int", "float": "float", "bool": "bool"}[t]


def suggest(name: str) -> str:
    """` (did you mean 'x'?)` for an unknown field name, or ''."""
    key = name.strip().lower().replace("-", "_")
    if key in FIELDS and key != name:
        return f" (did you mean '{key}'?)"
    if key in ALIASES:
        return f" (did you mean '{ALIASES[key]}'?)"
    near = difflib.get_close_matches(key, list(FIELDS), n=1, cutoff=0.6)
    return f" (did you mean '{near[0]}'?)" if near else ""


def check_value(name: str, value: Any) -> Any:
    """The value coerced to the field's type; ValueError (a short phrase) if it does not fit."""
    f = FIELDS[name]
    kind = _kind(f)
    meta = f.metadata
    if kind == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"must be true or false, not {_show(value)}")
    elif kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"must be an integer, not {_show(value)}")
    elif kind == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValueError(f"must be a number, not {_show(value)}")
        value = float(value)
    elif kind in ("str", "optstr"):
        if not isinstance(value, str):
            raise ValueError(f"must be a string, not {_show(value)}")
    elif kind == "modules":
        if isinstance(value, str):
            if value != "all-linear":
                raise ValueError(f"must be a list of module names or \"all-linear\", not {_show(value)}")
        elif not (isinstance(value, list) and value and all(isinstance(v, str) and v for v in value)):
            raise ValueError("must be a non-empty list of module names or \"all-linear\"")
        else:
            value = list(value)
    if "choices" in meta and value not in meta["choices"]:
        raise ValueError(f"must be one of {', '.join(meta['choices'])}, not {_show(value)}")
    if "minimum" in meta and value < meta["minimum"]:
        raise ValueError(f"must be ≥ {meta['minimum']}, not {value}")
    if "maximum" in meta and value > meta["maximum"]:
        raise ValueError(f"must be ≤ {meta['maximum']}, not {value}")
    if "exclusive_minimum" in meta and value <= meta["exclusive_minimum"]:
        raise ValueError(f"must be > {meta['exclusive_minimum']}, not {value}")
    return value


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return "a table"
    return json.dumps(value) if isinstance(value, (str, bool, list)) else repr(value)


def from_table(table: dict[str, Any], source: str, base: Path | None = None) -> TrainConfig:
    """A config from a TOML table: unknown keys and bad values raise ConfigError."""
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in FIELDS:
            raise ConfigError(f"{source}: field '{key}': unknown field{suggest(key)}")
        try:
            values[key] = check_value(key, value)
        except ValueError as exc:
            raise ConfigError(f"{source}: field '{key}': {exc}") from None
    cfg = TrainConfig(**values)
    return resolve_paths(cfg, base or Path.cwd(), set(values))


def resolve_paths(cfg: TrainConfig, base: Path, names: set[str]) -> TrainConfig:
    """Make the path fields in `names` absolute against `base`; hub ids stay as they are."""
    changes: dict[str, Any] = {}
    for name in names:
        kind = FIELDS[name].metadata.get("path")
        value = getattr(cfg, name)
        if not kind or not value:
            continue
        p = Path(value).expanduser()
        if kind == "model" and not p.is_absolute() and not _looks_local(value, base):
            continue  # a hub id such as "org/model"
        changes[name] = str(p if p.is_absolute() else (base / p).resolve())
    return replace(cfg, **changes) if changes else cfg


def _looks_local(value: str, base: Path) -> bool:
    return value.startswith((".", "~", "/", "\\")) or (base / value).exists()


def load_config(path: str | Path | None, overrides: dict[str, Any] | None = None,
                base: TrainConfig | None = None) -> TrainConfig:
    """Read `path` (TOML) or start from `base`, apply flag overrides, validate the whole."""
    if path is not None:
        path = Path(path)
        source = path.name
        try:
            table = tomllib.loads(path.read_text("utf-8"))
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path.name}: not valid TOML: {exc}") from None
        cfg = from_table(table, source, path.resolve().parent)
    elif base is not None:
        cfg = base
    else:
        raise ConfigError("no config: give a TOML file (or --resume a run)")
    for name, value in (overrides or {}).items():
        flag = "--" + name.replace("_", "-")
        try:
            cfg = replace(cfg, **{name: check_value(name, value)})
        except ValueError as exc:
            raise ConfigError(f"{flag}: field '{name}': {exc}") from None
        cfg = resolve_paths(cfg, Path.cwd(), {name})
    validate(cfg, path.name if path is not None else "config")
    return cfg


def validate(cfg: TrainConfig, source: str) -> None:
    """Checks across fields (required fields, conflicting choices)."""
    for f in fields(cfg):
        if f.metadata.get("required") and not getattr(cfg, f.name):
            raise ConfigError(f"{source}: field '{f.name}': required ({f.metadata['help']})")
    if cfg.eval_file and cfg.eval_fraction:
        raise ConfigError(f"{source}: field 'eval_fraction': set either eval_file or "
                          "eval_fraction, not both")
    if cfg.method == "full" and cfg.merge:
        raise ConfigError(f"{source}: field 'merge': full fine-tuning writes a whole model "
                          "already; merge applies to lora and qlora")


def from_json(data: dict[str, Any], source: str) -> TrainConfig:
    """A config saved by a run (config.json): already resolved, checked again."""
    cfg = from_table({k: v for k, v in data.items() if v is not None}, source, Path("/"))
    validate(cfg, source)
    return cfg


def to_toml(cfg: TrainConfig) -> str:
    """The config as TOML (flat keys; absent optional fields left out)."""
    lines = []
    for f in fields(cfg):
        value = getattr(cfg, f.name)
        if value is None:
            continue
        lines.append(f"{f.name} = {_toml_value(value)}")
    return "\n".join(lines) + "\n"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)  # a TOML basic string is a JSON string


def json_schema() -> dict[str, Any]:
    """JSON Schema (2020-12) of the TOML config, derived from the dataclass."""
    props: dict[str, Any] = {}
    for f in fields(TrainConfig):
        meta = f.metadata
        kind = _kind(f)
        prop: dict[str, Any] = {"description": meta["help"]}
        if kind == "modules":
            prop["anyOf"] = [{"type": "array", "items": {"type": "string", "minLength": 1},
                              "minItems": 1}, {"const": "all-linear"}]
        else:
            prop["type"] = {"bool": "boolean", "int": "integer", "float": "number"}.get(kind, "string")
        if "choices" in meta:
            prop["enum"] = list(meta["choices"])
        for key, name in (("minimum", "minimum"), ("maximum", "maximum"),
                          ("exclusive_minimum", "exclusiveMinimum")):
            if key in meta:
                prop[name] = meta[key]
        default = _default(f)
        if default is not None and not meta.get("required"):
            prop["default"] = default
        props[f.name] = prop
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "Tuneline training config",
        "description": "tuneline train CONFIG.toml: LoRA, QLoRA or full fine-tuning of a local "
                       "or hub model. Relative paths are relative to the config file.",
        "type": "object",
        "properties": props,
        "required": [f.name for f in fields(TrainConfig) if f.metadata.get("required")],
        "additionalProperties": False,
    }


if __name__ == "__main__":  # python -m tuneline.train.config > schemas/train-config.schema.json
    print(json.dumps(json_schema(), indent=2, ensure_ascii=False))
