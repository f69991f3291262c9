"""The training config: TOML loading, clear errors naming the field, overrides, the schema."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import jsonschema
import pytest

from tuneline.train import config as tc

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_FILE = ROOT / "schemas" / "train-config.schema.json"


def write(tmp_path: Path, text: str, name: str = "train.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, "utf-8")
    return path


BASE = 'base_model = "org/model"\ntrain_file = "data/train.jsonl"\n'


def test_paths_are_relative_to_the_config_file_and_hub_ids_stay(tmp_path: Path) -> None:
    (tmp_path / "models" / "tiny").mkdir(parents=True)
    cfg = tc.load_config(write(tmp_path, BASE + 'eval_file = "data/eval.jsonl"\n'))
    assert cfg.base_model == "org/model"  # no such folder: a hub id
    assert cfg.train_file == str(tmp_path / "data" / "train.jsonl")
    assert cfg.eval_file == str(tmp_path / "data" / "eval.jsonl")
    local = tc.load_config(write(tmp_path, 'base_model = "models/tiny"\ntrain_file = "t.jsonl"\n'))
    assert local.base_model == str(tmp_path / "models" / "tiny")


def test_defaults_follow_the_seed_recipe(tmp_path: Path) -> None:
    cfg = tc.load_config(write(tmp_path, BASE))
    assert (cfg.method, cfg.r, cfg.alpha, cfg.dropout) == ("lora", 16, 32.0, 0.05)
    assert cfg.target_modules == ["q_proj", "k_proj", "v_proj", "o_proj"]
    assert cfg.assistant_only_loss and cfg.packing and not cfg.merge


def test_every_field_is_documented() -> None:
    for f in fields(tc.TrainConfig):
        assert len(f.metadata.get("help", "")) > 10, f.name


def test_unknown_field_names_the_field_and_suggests_ours(tmp_path: Path) -> None:
    with pytest.raises(tc.ConfigError) as err:
        tc.load_config(write(tmp_path, BASE + "lora_rank = 8\n"))
    assert str(err.value) == "train.toml: field 'lora_rank': unknown field (did you mean 'r'?)"
    with pytest.raises(tc.ConfigError, match=r"field 'learning_rat': unknown field \(did you mean "
                                             r"'learning_rate'\?\)"):
        tc.load_config(write(tmp_path, BASE + "learning_rat = 1e-4\n"))


@pytest.mark.parametrize(("line", "message"), [
    ('r = "eight"', "field 'r': must be an integer, not \"eight\""),
    ("r = 0", "field 'r': must be ≥ 1, not 0"),
    ('method = "dora"', "field 'method': must be one of lora, qlora, full, not \"dora\""),
    ("packing = 1", "field 'packing': must be true or false, not 1"),
    ('target_modules = "everything"', "field 'target_modules': must be a list of module names"),
    ("eval_fraction = 0.9", "field 'eval_fraction': must be ≤ 0.5, not 0.9"),
    ("learning_rate = 0", "field 'learning_rate': must be > 0, not 0.0"),
    ("[lora]\nr = 4", "field 'lora': unknown field"),
])
def test_bad_values_name_the_field(tmp_path: Path, line: str, message: str) -> None:
    with pytest.raises(tc.ConfigError) as err:
        tc.load_config(write(tmp_path, BASE + line + "\n"))
    assert str(err.value).startswith("train.toml: " + message)


def test_missing_required_field_and_conflicts(tmp_path: Path) -> None:
    with pytest.raises(tc.ConfigError, match="field 'train_file': required"):
        tc.load_config(write(tmp_path, 'base_model = "m"\n'))
    with pytest.raises(tc.ConfigError, match="either eval_file or eval_fraction"):
        tc.load_config(write(tmp_path, BASE + 'eval_file = "e.jsonl"\neval_fraction = 0.1\n'))
    with pytest.raises(tc.ConfigError, match="not valid TOML"):
        tc.load_config(write(tmp_path, "method = \n"))


def test_overrides_win_and_are_checked(tmp_path: Path) -> None:
    path = write(tmp_path, BASE + "max_steps = 100\n")
    cfg = tc.load_config(path, {"max_steps": 5, "method": "qlora", "target_modules": "all-linear"})
    assert (cfg.max_steps, cfg.method, cfg.target_modules) == (5, "qlora", "all-linear")
    with pytest.raises(tc.ConfigError) as err:
        tc.load_config(path, {"batch_size": 0})
    assert str(err.value) == "--batch-size: field 'batch_size': must be ≥ 1, not 0"


def test_toml_round_trip(tmp_path: Path) -> None:
    cfg = tc.load_config(write(tmp_path, BASE + "merge = true\nr = 8\nlearning_rate = 3e-4\n"))
    again = tc.from_table(tomllib.loads(tc.to_toml(cfg)), "again.toml")
    assert again == cfg
    assert tc.from_json(json.loads(json.dumps(cfg.to_dict())), "config.json") == cfg


def test_schema_file_is_generated_from_the_dataclass() -> None:
    assert json.loads(SCHEMA_FILE.read_text("utf-8")) == tc.json_schema(), (
        "regenerate: python -m tuneline.train.config > schemas/train-config.schema.json")
    schema = tc.json_schema()
    assert set(schema["properties"]) == {f.name for f in fields(tc.TrainConfig)}
    assert schema["properties"]["r"]["default"] == 16
    jsonschema.Draft202012Validator.check_schema(schema)


def test_schema_agrees_with_the_loader() -> None:
    validator = jsonschema.Draft202012Validator(tc.json_schema())
    example = tomllib.loads((ROOT / "examples" / "train.toml").read_text("utf-8"))
    assert not list(validator.iter_errors(example))
    tc.from_table(example, "train.toml")  # the loader accepts it too
    for bad in ({**example, "lora_rank": 8}, {**example, "r": "x"}, {**example, "method": "x"},
                {**example, "target_modules": "everything"}, {**example, "dropout": 2.0}):
        assert list(validator.iter_errors(bad)), bad
        with pytest.raises(tc.ConfigError):
            tc.from_table(bad, "train.toml")


def test_cli_config_error_is_one_clear_line_and_exit_2(tmp_path: Path) -> None:
    path = write(tmp_path, BASE + "lora_rank = 8\n")
    proc = subprocess.run([sys.executable, "-m", "tuneline", "train", str(path), "--runs-dir",
                           str(tmp_path / "runs")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "field 'lora_rank': unknown field (did you mean 'r'?)" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "runs").exists()
    bad_flag = subprocess.run([sys.executable, "-m", "tuneline", "train", str(path), "--r", "x"],
                              capture_output=True, text=True, timeout=120)
    assert bad_flag.returncode == 2 and "--r" in bad_flag.stderr
