"""dataset.py: dataset rules over the per-line cache, incremental edits, summary()."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tuneline.lint import api
from tuneline.lint.config import Config
from tuneline.lint.context import LintContext
from tuneline.lint.dataset import Dataset, distribution
from tuneline.lint.findings import Finding, Related, Severity
from tuneline.lint.tokens import tiktoken_encoding

# Only the core rules: the line rules of other suites must not change these expectations.
CORE = ("TL0", "TL103", "TL5", "TL7")


def chat(user: str, answer: str = "a perfectly fine answer", system: str | None = None,
         **extra: Any) -> str:
    msgs = [{"role": "system", "content": system}] if system is not None else []
    msgs += [{"role": "user", "content": user}, {"role": "assistant", "content": answer}]
    return json.dumps({"messages": msgs, **extra})


def make(lines: list[str], **cfg: Any) -> Dataset:
    cfg.setdefault("select", CORE)
    ds = Dataset(LintContext(Config(**cfg)))
    ds.set_lines(lines)
    return ds


def brief(findings: list[Finding], *rules: str) -> list[tuple[str, int, str]]:
    return [(f.rule, f.line, f.message) for f in findings if not rules or f.rule in rules]


LONG = ("the quick brown fox jumps over the lazy dog while the farmer watches from the porch "
        "and drinks his morning coffee slowly")
LONG_EDITED = LONG.replace("morning", "evening")
OTHER = ("a completely different request about compiling rust code with cargo and fixing the "
         "borrow checker errors one at a time")


# ----- exact duplicates ----------------------------------------------------------------------


def test_exact_duplicate_points_at_first_copy() -> None:
    lines = [chat("alpha question"), chat("beta question"), chat("alpha question"),
             chat("alpha  question\n"), chat("beta question")]
    ds = make(lines)
    dups = [f for f in ds.findings() if f.rule == "TL501"]
    assert [(f.line, f.message, f.data) for f in dups] == [
        (2, "exact duplicate of line 1", {"first_line": 0}),
        (3, "exact duplicate of line 1", {"first_line": 0}),  # whitespace-normalised
        (4, "exact duplicate of line 2", {"first_line": 1}),
    ]
    f = dups[0]
    assert f.related == (Related(0, 0, 0, "first copy"),)
    assert (f.col, f.end_line, f.end_col) == (0, 2, len(lines[2]))
    assert f.severity == Severity.WARNING


@pytest.mark.parametrize(
    ("a", "b", "dup"),
    [
        (chat("q", "x"), chat("q", "x", system=None, weight=1), True),  # extra keys ignored
        (chat("q", "x"), chat("Q", "x"), False),  # case matters
        (chat("q", "x", system="s1"), chat("q", "x", system="s2"), False),  # system counts
        (chat("q", "x"), chat("q", "y"), False),
        (chat("a b", "x"), chat(" a\tb ", "x"), True),
    ],
)
def test_what_counts_as_exact_duplicate(a: str, b: str, dup: bool) -> None:
    assert bool(brief(make([a, b]).findings(), "TL501")) is dup


def test_non_examples_are_never_duplicates() -> None:
    ds = make(["{", "{", "", "", "[1]", "[1]", "{\"x\": 1}", "{\"x\": 1}"])
    assert brief(ds.findings(), "TL501", "TL502") == []


# ----- near duplicates -----------------------------------------------------------------------


def test_near_duplicate() -> None:
    ds = make([chat(OTHER), chat(LONG), chat(LONG_EDITED), chat(LONG + " indeed")])
    near = [f for f in ds.findings() if f.rule == "TL502"]
    assert [(f.line, f.message, f.data) for f in near] == [
        (2, "near duplicate of line 2", {"first_line": 1}),
        (3, "near duplicate of line 2", {"first_line": 1}),
    ]
    assert near[0].related == (Related(1, 0, 0, "similar example"),)
    assert near[0].severity == Severity.INFO


def test_near_duplicate_ignores_system_prompt_and_whitespace() -> None:
    ds = make([chat(LONG, system="You are A."), chat(LONG.replace(" ", "   "), system="B")])
    assert brief(ds.findings(), "TL501", "TL502") == [
        ("TL502", 1, "near duplicate of line 1")]


@pytest.mark.parametrize(("threshold", "flagged"), [(0.3, True), (1.0, False)])
def test_near_duplicate_threshold(threshold: float, flagged: bool) -> None:
    ds = make([chat(LONG), chat(LONG_EDITED)], near_duplicate_threshold=threshold)
    assert bool(brief(ds.findings(), "TL502")) is flagged


def test_an_exact_duplicate_is_not_also_a_near_duplicate() -> None:
    ds = make([chat(LONG), chat(LONG_EDITED), chat(LONG_EDITED)])
    assert brief(ds.findings(), "TL501", "TL502") == [
        ("TL502", 1, "near duplicate of line 1"), ("TL501", 2, "exact duplicate of line 2")]


# ----- eval contamination --------------------------------------------------------------------


def test_eval_contamination(tmp_path: Path) -> None:
    eval_file = tmp_path / "eval.jsonl"
    eval_file.write_text("\n".join([chat("held out one", "x"), chat("held out two", "y")]) + "\n")
    cfg = Config(select=CORE, eval_file=str(eval_file))
    ctx = api.context_for(tmp_path / "train.jsonl", api.LoadedConfig(cfg))
    ds = Dataset(ctx)
    ds.set_lines([chat("fresh", "x"), chat("held out two", "another answer"),
                  chat("held out one", "x")])
    got = [(f.line, f.message, f.data, f.severity) for f in ds.findings() if f.rule == "TL503"]
    assert got == [
        (1, "also in the eval file eval.jsonl:2", {"eval": "eval.jsonl:2"}, Severity.ERROR),
        (2, "also in the eval file eval.jsonl:1", {"eval": "eval.jsonl:1"}, Severity.ERROR),
    ]


def test_eval_file_is_not_checked_against_itself(tmp_path: Path) -> None:
    eval_file = tmp_path / "eval.jsonl"
    eval_file.write_text(chat("q") + "\n")
    cfg = Config(select=CORE, eval_file="eval.jsonl", source=str(tmp_path / "tuneline.toml"))
    ctx = api.context_for(eval_file, api.LoadedConfig(cfg))
    assert ctx.eval_keys == {}
    other = api.context_for(tmp_path / "train.jsonl", api.LoadedConfig(cfg))
    assert set(other.eval_keys.values()) == {"eval.jsonl:1"}


# ----- formats -------------------------------------------------------------------------------

PC = json.dumps({"prompt": "say hi", "completion": "hi"})


def test_mixed_format() -> None:
    ds = make([chat("a"), chat("b"), PC])
    assert ds.file_format == "chat"
    assert [(f.rule, f.line, f.message, f.data) for f in ds.findings() if f.rule == "TL103"] == [
        ("TL103", 2, "this line is 'prompt-completion' but the file is 'chat'",
         {"to_format": "chat"})]


def test_mixed_format_tie_is_order_independent() -> None:
    one, two = make([chat("a"), PC]), make([PC, chat("a")])
    assert one.file_format == two.file_format
    assert brief(one.findings(), "TL103") != [] and brief(two.findings(), "TL103") != []


def test_forced_format_has_no_mixed_format_finding() -> None:
    ds = make([chat("a"), chat("b")], format="chat")
    assert ds.file_format == "chat"
    assert brief(ds.findings(), "TL103") == []


# ----- counts, system prompts, labels --------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "target", "expected"),
    [
        # a file of only broken lines has 0 examples
        (0, "openai", ("TL701", Severity.ERROR, "only 0 example(s); OpenAI requires at least 10 "
                       "and trainers learn little from so few")),
        (1, "openai", ("TL701", Severity.ERROR, "only 1 example(s); OpenAI requires at least 10 "
                       "and trainers learn little from so few")),
        (9, "openai", ("TL701", Severity.ERROR, "only 9 example(s); OpenAI requires at least 10 "
                       "and trainers learn little from so few")),
        (9, "local", ("TL701", Severity.WARNING, "only 9 example(s); OpenAI requires at least 10 "
                      "and trainers learn little from so few")),
        (10, "openai", ("TL702", Severity.WARNING,
                        "10 examples: under 100, consider few-shot prompting instead")),
        (99, "openai", ("TL702", Severity.WARNING,
                        "99 examples: under 100, consider few-shot prompting instead")),
        (100, "openai", ("TL703", Severity.INFO,
                         "100 examples: strong fine-tuning wants 1000+ high-quality examples")),
        (999, "local", ("TL703", Severity.INFO,
                        "999 examples: strong fine-tuning wants 1000+ high-quality examples")),
        (1000, "openai", None),
    ],
)
def test_example_count_rules(n: int, target: str,
                             expected: tuple[str, Severity, str] | None) -> None:
    lines = [chat("same")] * n + ["{broken"]  # identical lines: checked once, counted n times
    found = [f for f in make(lines, target=target, ignore=("TL501",)).findings()
             if f.rule in ("TL701", "TL702", "TL703")]
    if expected is None:
        assert found == []
        return
    assert [(f.rule, f.severity, f.message) for f in found] == [expected]
    assert (found[0].line, found[0].col, found[0].end_line, found[0].end_col) == (0, 0, 0, 1)


@pytest.mark.parametrize("token", ["TL701", "too-few-examples", "TL70"])
def test_too_few_severity_override_wins_over_openai_error(token: str) -> None:
    ds = make([chat("q")], target="openai", severity={token: "info"})
    assert [f.severity for f in ds.findings() if f.rule == "TL701"] == [Severity.INFO]


def test_empty_dataset_has_no_dataset_findings() -> None:
    assert make([]).findings() == []


def test_file_level_findings_on_an_empty_first_line_are_zero_width() -> None:
    ds = make(["", chat("q")])
    tl701 = next(f for f in ds.findings() if f.rule == "TL701")
    assert (tl701.line, tl701.col, tl701.end_col) == (0, 0, 0)


def test_system_prompts() -> None:
    ds = make([chat("a", system="Be brief."), chat("b", system="Be brief."),
               chat("c", system="Be verbose."), chat("d")])
    assert brief(ds.findings(), "TL704") == [
        ("TL704", 0, "2 different system prompts; the most common is used by 2 of 4 examples")]
    assert brief(make([chat("a", system="x"), chat("b", system="x"), chat("c")]).findings(),
                 "TL704") == []


@pytest.mark.parametrize(
    ("labels", "ratio", "message"),
    [
        (["pos"] * 11 + ["neg"], 10.0, "label imbalance on 'label': 'pos' × 11 vs 'neg' × 1"),
        (["pos"] * 10 + ["neg"], 10.0, None),  # exactly the ratio: fine
        (["pos"] * 3 + ["neg"], 2.0, "label imbalance on 'label': 'pos' × 3 vs 'neg' × 1"),
        ([1] * 5 + [2] * 2 + [3], 4.0, "label imbalance on 'label': '1' × 5 vs '3' × 1"),
        (["pos"] * 30, 10.0, None),  # one class: nothing to compare
        ([None] * 30 + ["x"], 10.0, None),  # null labels are not labels
    ],
)
def test_label_imbalance(labels: list[Any], ratio: float, message: str | None) -> None:
    lines = [chat(f"q{i}", label=lab) for i, lab in enumerate(labels)]
    got = brief(make(lines, label_field="label", imbalance_ratio=ratio).findings(), "TL705")
    assert got == ([("TL705", 0, message)] if message else [])


def test_no_label_field_no_label_rule() -> None:
    lines = [chat(f"q{i}", label="pos") for i in range(20)] + [chat("z", label="neg")]
    assert brief(make(lines).findings(), "TL705") == []


# ----- line findings, extras, ordering -------------------------------------------------------


def test_line_findings_are_placed_and_sorted() -> None:
    ds = make([chat("q"), "", "{\"a\": NaN}", "[1]", chat("q")])
    ds.extra.append(Finding("TL002", "bad byte", Severity.ERROR, 1, 0, 1, 1))
    got = [(f.rule, f.line, f.col) for f in ds.findings()]
    assert got == [("TL701", 0, 0), ("TL002", 1, 0), ("TL006", 1, 0), ("TL001", 2, 6),
                   ("TL007", 3, 0), ("TL501", 4, 0)]


def test_disabled_rules_are_not_reported() -> None:
    ds = make([chat("q"), chat("q"), ""], select=("TL0",), ignore=("TL006",))
    assert ds.findings() == []


# ----- incremental edits ---------------------------------------------------------------------


def _same_as_fresh(ds: Dataset, **cfg: Any) -> None:
    fresh = make(list(ds.lines), **cfg)
    assert ds.findings() == fresh.findings()
    assert ds.file_format == fresh.file_format
    assert ds.example_count == fresh.example_count


def test_replace_returns_new_results_and_updates_lines() -> None:
    ds = make([chat("a"), chat("b")])
    fresh = ds.replace(1, 2, [chat("c"), "", chat("a")])
    assert len(fresh) == 3 and fresh[1].blank
    assert ds.lines == [chat("a"), chat("c"), "", chat("a")]
    assert brief(ds.findings(), "TL501") == [("TL501", 3, "exact duplicate of line 1")]
    _same_as_fresh(ds, select=CORE)


def test_deleting_the_first_copy_moves_the_pointer() -> None:
    ds = make([chat("a"), chat("b"), chat("a"), chat("a")])
    ds.replace(0, 1, [])
    assert brief(ds.findings(), "TL501") == [("TL501", 2, "exact duplicate of line 2")]
    ds.replace(1, 2, [])
    assert brief(ds.findings(), "TL501") == []
    _same_as_fresh(ds, select=CORE)


def test_editing_a_near_partner_away_and_back() -> None:
    ds = make([chat(LONG), chat(OTHER), chat(LONG_EDITED)])
    assert brief(ds.findings(), "TL502") == [("TL502", 2, "near duplicate of line 1")]
    ds.replace(0, 1, [chat("short and unrelated")])
    assert brief(ds.findings(), "TL502") == []
    ds.replace(1, 1, [chat(LONG)])
    assert brief(ds.findings(), "TL502") == [("TL502", 3, "near duplicate of line 2")]
    _same_as_fresh(ds, select=CORE)


def test_whitespace_variant_copies_share_one_near_signature() -> None:
    """Regression: the near index keeps one signature per duplicate key, so it must not depend
    on which whitespace variant of the example was added first."""
    words = ["lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing", "elit", "sed",
             "do", "eiusmod", "tempor", "incididunt", "ut", "labore"]
    spaced, plain = chat("   ".join(words)), chat(" ".join(words))
    similar = chat(" ".join([*words[:-1], "magna"]))
    ds = make([spaced, plain, similar], near_duplicate_threshold=0.6)
    assert brief(ds.findings(), "TL501", "TL502") == [
        ("TL501", 1, "exact duplicate of line 1"), ("TL502", 2, "near duplicate of line 1")]
    ds.replace(0, 1, [])  # the spaced copy, whose raw text shares no shingle with `similar`
    assert brief(ds.findings(), "TL501", "TL502") == [("TL502", 1, "near duplicate of line 1")]
    _same_as_fresh(ds, select=CORE, near_duplicate_threshold=0.6)


def test_format_counts_follow_edits() -> None:
    ds = make([PC, PC, chat("a")])
    assert ds.file_format == "prompt-completion"
    ds.replace(0, 2, [chat("b"), chat("c")])
    assert ds.file_format == "chat"
    assert brief(ds.findings(), "TL103") == []
    _same_as_fresh(ds, select=CORE)


def test_keep_text_false_matches_keep_text() -> None:
    lines = [chat("a"), chat("a"), "", PC, chat(LONG), chat(LONG_EDITED)]
    ctx = LintContext(Config(select=CORE))
    streamed = Dataset(ctx, keep_text=False)
    streamed.append(lines[:3])
    streamed.append(lines[3:])
    assert streamed.lines == []
    assert streamed.findings() == make(lines).findings()


def test_extend_results_matches_set_lines() -> None:
    from tuneline.lint.check import check_lines

    lines = [chat("a"), chat("a", system="s"), chat("b", system="t")]
    ctx = LintContext(Config(select=CORE))
    ds = Dataset(ctx, keep_text=False)
    ds.extend_results(check_lines(lines, ctx))
    assert ds.findings() == make(lines).findings()


# ----- summary -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([], {}),
        ([5], {"min": 5, "median": 5, "p90": 5, "max": 5, "mean": 5.0}),
        ([1, 2, 3, 4], {"min": 1, "median": 2.5, "p90": 4, "max": 4, "mean": 2.5}),
        ([3, 1, 2], {"min": 1, "median": 2, "p90": 3, "max": 3, "mean": 2.0}),
        (list(range(1, 12)), {"min": 1, "median": 6, "p90": 10, "max": 11, "mean": 6.0}),
        ([1, 1, 1, 2], {"min": 1, "median": 1.0, "p90": 2, "max": 2, "mean": 1.2}),
    ],
)
def test_distribution(values: list[int], expected: dict[str, float]) -> None:
    assert distribution(values) == expected


def test_summary_with_tokens() -> None:
    enc = tiktoken_encoding("o200k_base")

    def n(s: str) -> int:
        return len(enc.encode_ordinary(s))

    examples = [("hello there", "hi"), ("what is the capital of france", "paris")]
    lines = [chat(q, a) for q, a in examples] + ["", "[1]"]
    ctx = LintContext(Config(select=CORE, model="gpt-4o-mini"), count_tokens=True)
    ds = Dataset(ctx)
    ds.set_lines(lines)
    s = ds.summary()
    per = [3 + (3 + n("user") + n(q)) + (3 + n("assistant") + n(a)) for q, a in examples]
    assert (s.examples, s.lines, s.format, s.model, s.limit) == (
        2, 4, "chat", "gpt-4o-mini", 65_536)
    # TL007 and TL701 (OpenAI target) are errors; TL006 is info
    assert (s.errors, s.warnings) == (2, 0)
    assert s.messages == {"min": 2, "median": 2.0, "p90": 2, "max": 2, "mean": 2.0}
    assert s.total_tokens == sum(per)
    assert s.tokens["max"] == max(per) and s.tokens["min"] == min(per)
    assert s.over_limit == 0
    assert (s.epochs, s.billed_tokens) == (25, 25 * sum(per))  # 2 examples: min(25, 100 // 2)
    assert s.to_json()["billed_tokens"] == 25 * sum(per)


def test_summary_over_limit_and_no_epochs_for_local_targets() -> None:
    ctx = LintContext(Config(select=CORE, model="gpt-4o", max_tokens=16, target="local"),
                      count_tokens=True)
    ds = Dataset(ctx)
    ds.set_lines([chat("a", "b"), chat("a much longer question with many words in it", "ok")])
    s = ds.summary()
    assert s.limit == 16 and s.over_limit == 1
    assert s.tokens["min"] <= 16 < s.tokens["max"]
    assert s.epochs is None and s.billed_tokens is None


def test_summary_without_tokens() -> None:
    s = make([chat("q")]).summary()
    assert s.tokens == {} and s.total_tokens is None and s.epochs is None
    assert (s.examples, s.lines) == (1, 1)
