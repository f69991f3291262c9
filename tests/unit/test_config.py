"""config.py: parsing, validation findings (TL901/TL902), discovery and per-path overrides."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tuneline.lint.config import Config, find_config_file, load_config, parse_config
from tuneline.lint.context import LintContext
from tuneline.lint.findings import Severity


def test_defaults() -> None:
    cfg = Config()
    assert cfg.model == "gpt-4o-mini-2024-07-18"
    assert (cfg.format, cfg.target, cfg.select, cfg.ignore) == ("auto", "auto", ("ALL",), ())
    assert (cfg.min_messages, cfg.near_duplicate_threshold, cfg.imbalance_ratio) == (2, 0.8, 10.0)
    assert cfg.max_tokens is None and cfg.source is None and cfg.overrides == ()


@pytest.mark.parametrize(
    ("toml", "attr", "value"),
    [
        ('model = "gpt-3.5-turbo"', "model", "gpt-3.5-turbo"),
        ('select = ["TL0", "blank-line"]', "select", ("TL0", "blank-line")),
        ('select = "TL5"', "select", ("TL5",)),  # one string is a one-item list
        ('ignore = ["TL701"]', "ignore", ("TL701",)),
        ('severity = { TL204 = "error", TL006 = "hint" }', "severity",
         {"TL204": "error", "TL006": "hint"}),
        ("max_tokens = 2048", "max_tokens", 2048),
        ('format = "dpo"', "format", "dpo"),
        ('target = "local"', "target", "local"),
        ("min_messages = 0", "min_messages", 0),
        ("near_duplicate_threshold = 1", "near_duplicate_threshold", 1.0),
        ("near_duplicate_threshold = 0.55", "near_duplicate_threshold", 0.55),
        ("imbalance_ratio = 3", "imbalance_ratio", 3.0),
        ('tokenizer = "models/llama"', "tokenizer", "models/llama"),
        ('eval_file = "eval.jsonl"', "eval_file", "eval.jsonl"),
        ('label_field = "label"', "label_field", "label"),
    ],
)
def test_parse_valid(toml: str, attr: str, value: Any) -> None:
    loaded = parse_config(toml + "\n", "/proj/tuneline.toml")
    assert loaded.problems == []
    assert getattr(loaded.config, attr) == value
    assert loaded.config.source == "/proj/tuneline.toml"


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("select = 5", "'select' must be a list of rule ids or names"),
        ("select = [1, 2]", "'select' must be a list of rule ids or names"),
        ('severity = "error"', "'severity' must be a table of rule = \"error|warning|info|hint\""),
        ('severity = { TL204 = "loud" }', "'loud' is not a severity (error, warning, info, hint)"),
        ('format = "xml"', "'format' must be one of auto, chat, dpo, rft, prompt-completion, "
         "text, prompt-only, preference, unpaired-preference, stepwise, sharegpt, alpaca, "
         "not 'xml'"),
        ('target = "cloud"', "'target' must be auto, openai or local, not 'cloud'"),
        ("min_messages = -1", "'min_messages' must be a non-negative integer"),
        ("min_messages = true", "'min_messages' must be a non-negative integer"),
        ("min_messages = 2.5", "'min_messages' must be a non-negative integer"),
        ('model = 4', "'model' must be a string"),
        ('near_duplicate_threshold = "high"', "'near_duplicate_threshold' must be a number"),
        ("near_duplicate_threshold = 3", "'near_duplicate_threshold' must be between 0 and 1, "
         "not 3"),
        ("near_duplicate_threshold = -0.1", "'near_duplicate_threshold' must be between 0 and 1, "
         "not -0.1"),
        ("imbalance_ratio = 0.5", "'imbalance_ratio' must be between 1 and inf, not 0.5"),
        ('max_tokens = "4096"', "'max_tokens' must be a positive integer"),
        ("max_tokens = 0", "'max_tokens' must be a positive integer"),
        ("max_tokens = -5", "'max_tokens' must be a positive integer"),
        ("tokenizer = 5", "'tokenizer' must be a string"),
        ("eval_file = true", "'eval_file' must be a string"),
        ("overrides = 3", "'overrides' must be an array of tables ([[tool.tuneline.overrides]])"),
        ("[[overrides]]\nmodel = \"x\"", "each override needs files = [\"glob\", ...]"),
        ("[[overrides]]\nfiles = []", "each override needs files = [\"glob\", ...]"),
        ("[[overrides]]\nfiles = [\"*.jsonl\"]\nmodle = \"x\"",
         "override: unknown key 'modle' (did you mean 'model'?)"),
        ("[[overrides]]\nfiles = [\"*.jsonl\"]\nmin_messages = -2",
         "override: 'min_messages' must be a non-negative integer"),
    ],
)
def test_parse_bad_value_is_tl902_and_keeps_default(toml: str, message: str) -> None:
    loaded = parse_config(toml + "\n", "/proj/tuneline.toml")
    assert [(f.rule, f.severity, f.message) for f in loaded.problems] == [
        ("TL902", Severity.ERROR, f"tuneline.toml: {message}")]
    key = toml.split("\n")[0].split("=")[0].strip().strip("[]")
    assert getattr(loaded.config, key) == getattr(Config(), key)


@pytest.mark.parametrize(
    ("key", "hint"),
    [
        ("modle", " (did you mean 'model'?)"),
        ("max_token", " (did you mean 'max_tokens'?)"),
        ("selct", " (did you mean 'select'?)"),
        ("source", ""),  # set by Tuneline, never by the file
        ("zzzzzz", ""),
    ],
)
def test_unknown_key_is_tl901_with_suggestion(key: str, hint: str) -> None:
    text = f'model = "gpt-4o"\n\n{key} = 1\n'
    loaded = parse_config(text, "/proj/tuneline.toml")
    assert len(loaded.problems) == 1
    f = loaded.problems[0]
    assert (f.rule, f.severity) == ("TL901", Severity.WARNING)
    assert f.message == f"tuneline.toml: unknown key '{key}'{hint}"
    assert (f.line, f.col, f.end_line, f.end_col) == (2, 0, 2, len(key))
    assert loaded.config.model == "gpt-4o"  # the rest still applies


PYPROJECT = """\
[project]
name = "demo"

[tool.ruff.lint]
select = ["E"]
ignore = ["E501"]

[tool.tuneline]
model = "gpt-4o"
select = 5
ignore = ["TL7"]
modle = "x"

[[tool.tuneline.overrides]]
files = "x.jsonl"
"""


def test_pyproject_reads_only_tool_tuneline_and_places_findings_in_it() -> None:
    loaded = parse_config(PYPROJECT, "/proj/pyproject.toml")
    cfg = loaded.config
    assert (cfg.model, cfg.ignore, cfg.select) == ("gpt-4o", ("TL7",), ("ALL",))
    got = [(f.rule, f.line, f.message) for f in loaded.problems]
    assert got == [
        # line 9 (0-based), not the `select` of [tool.ruff.lint] on line 4
        ("TL902", 9, "pyproject.toml: 'select' must be a list of rule ids or names"),
        ("TL901", 11, "pyproject.toml: unknown key 'modle' (did you mean 'model'?)"),
        # a problem inside [[tool.tuneline.overrides]] points at its header
        ("TL902", 13, "pyproject.toml: each override needs files = [\"glob\", ...]"),
    ]


def test_pyproject_without_section_is_defaults() -> None:
    loaded = parse_config('[project]\nname = "x"\n', "/p/pyproject.toml")
    assert loaded.problems == [] and loaded.config == Config(source="/p/pyproject.toml")


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ('model = "a"\nselect = [1\n', 0),  # tomllib: "(at end of document)"
        ('model = "a"\nselect = = 1\n', 1),
        ('model = "a"\n\n\nmodel = "b"\n', 3),  # a repeated key
        ('model = "unterminated\n', 0),
    ],
)
def test_invalid_toml_is_one_tl902_on_its_line(text: str, line: int) -> None:
    loaded = parse_config(text, "/p/tuneline.toml")
    assert len(loaded.problems) == 1
    f = loaded.problems[0]
    assert (f.rule, f.severity, f.line) == ("TL902", Severity.ERROR, line)
    assert f.message.startswith("tuneline.toml is not valid TOML: ")
    assert loaded.config == Config(source="/p/tuneline.toml")


# ----- discovery -----------------------------------------------------------------------------


def test_find_config_walks_up(tmp_path: Path) -> None:
    (tmp_path / "tuneline.toml").write_text('model = "gpt-4o"\n')
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    data = deep / "train.jsonl"
    data.write_text("{}\n")
    assert find_config_file(deep) == (tmp_path / "tuneline.toml").resolve()
    assert find_config_file(data) == (tmp_path / "tuneline.toml").resolve()
    loaded = load_config(data)
    assert loaded.config.model == "gpt-4o"
    assert loaded.config.source == str((tmp_path / "tuneline.toml").resolve())


def test_find_config_skips_pyproject_without_section(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.tuneline]\nmodel = "outer"\n')
    inner = tmp_path / "pkg"
    inner.mkdir()
    (inner / "pyproject.toml").write_text('[project]\nname = "pkg"\n')
    assert load_config(inner).config.model == "outer"
    (inner / "pyproject.toml").write_text("not [valid toml\n")  # unreadable: keep walking
    assert load_config(inner).config.model == "outer"


def test_nearest_config_wins_and_tuneline_toml_beats_pyproject(tmp_path: Path) -> None:
    (tmp_path / "tuneline.toml").write_text('model = "outer"\n')
    inner = tmp_path / "inner"
    inner.mkdir()
    (inner / "pyproject.toml").write_text('[tool.tuneline]\nmodel = "pyproject"\n')
    assert load_config(inner).config.model == "pyproject"
    (inner / "tuneline.toml").write_text('model = "toml"\n')
    assert load_config(inner).config.model == "toml"


def test_explicit_config_and_missing_file(tmp_path: Path) -> None:
    cfg = tmp_path / "custom.toml"
    cfg.write_text('model = "gpt-4o"\n')
    assert load_config(tmp_path / "elsewhere", explicit=cfg).config.model == "gpt-4o"
    missing = load_config(explicit=tmp_path / "nope.toml")
    assert missing.config == Config()
    assert [(f.rule, f.severity) for f in missing.problems] == [("TL902", Severity.ERROR)]
    assert missing.problems[0].message.startswith(f"cannot read {tmp_path / 'nope.toml'}: ")


def test_no_config_anywhere_is_defaults(tmp_path: Path) -> None:
    loaded = load_config(tmp_path)
    if loaded.config.source is not None:  # a stray config above the temp dir
        pytest.skip(f"found {loaded.config.source} above {tmp_path}")
    assert loaded.config == Config() and loaded.problems == []


# ----- per-path overrides --------------------------------------------------------------------

OVERRIDES = """\
model = "gpt-4o"
min_messages = 2

[[overrides]]
files = ["eval/*.jsonl"]
min_messages = 3
ignore = ["TL7"]

[[overrides]]
files = ["*.small.jsonl"]
min_messages = 5
"""


@pytest.mark.parametrize(
    ("rel", "min_messages", "ignore"),
    [
        ("train.jsonl", 2, ()),
        ("eval/a.jsonl", 3, ("TL7",)),
        ("eval/sub/a.jsonl", 3, ("TL7",)),  # fnmatch's '*' crosses '/'
        ("data/x.small.jsonl", 5, ()),  # matched by file name
        ("eval/x.small.jsonl", 5, ("TL7",)),  # both apply, in order
        ("evaluation/a.jsonl", 2, ()),
    ],
)
def test_for_path_overrides(tmp_path: Path, rel: str, min_messages: int,
                            ignore: tuple[str, ...]) -> None:
    (tmp_path / "tuneline.toml").write_text(OVERRIDES)
    loaded = load_config(tmp_path)
    assert loaded.problems == []
    cfg = loaded.config.for_path(tmp_path / rel)
    assert (cfg.min_messages, cfg.ignore, cfg.model) == (min_messages, ignore, "gpt-4o")


def test_for_path_without_overrides_or_path_is_identity(tmp_path: Path) -> None:
    cfg = Config()
    assert cfg.for_path(tmp_path / "x.jsonl") is cfg
    with_ov = parse_config(OVERRIDES, str(tmp_path / "tuneline.toml")).config
    assert with_ov.for_path(None) is with_ov
    assert with_ov.for_path("") is with_ov


def test_for_path_outside_config_folder_matches_by_name(tmp_path: Path) -> None:
    cfg = parse_config(OVERRIDES, str(tmp_path / "proj" / "tuneline.toml")).config
    assert cfg.for_path(tmp_path / "other" / "a.small.jsonl").min_messages == 5
    assert cfg.for_path(tmp_path / "other" / "eval" / "a.jsonl").min_messages == 2


# ----- the config as the linter sees it ------------------------------------------------------


@pytest.mark.parametrize(
    ("cfg", "on", "off"),
    [
        (Config(), ["TL001", "TL501", "TL701"], []),
        (Config(select=("TL0",)), ["TL001", "TL007"], ["TL501", "TL701"]),
        (Config(select=("TL5", "blank-line")), ["TL006", "TL501", "TL502"], ["TL001"]),
        (Config(ignore=("TL50",)), ["TL001", "TL701"], ["TL501", "TL502", "TL503"]),
        (Config(select=("TL001",), ignore=("invalid-json",)), [], ["TL001"]),
    ],
)
def test_context_select_ignore(cfg: Config, on: list[str], off: list[str]) -> None:
    ctx = LintContext(cfg)
    assert all(ctx.on(r) for r in on)
    assert not any(ctx.on(r) for r in off)


def test_context_severity_override_by_id_prefix_and_name() -> None:
    ctx = LintContext(Config(severity={"TL006": "error", "TL50": "hint",
                                       "not-an-object": "warning"}))
    assert ctx.severities["TL006"] == Severity.ERROR
    assert ctx.severities["TL501"] == Severity.HINT
    assert ctx.severities["TL503"] == Severity.HINT
    assert ctx.severities["TL007"] == Severity.WARNING
    assert ctx.severities["TL001"] == Severity.ERROR  # untouched
