"""output.py: text / json / sarif / github renderers (golden files) and the stats summary.

Regenerate the goldens after an intended change with `pytest tests/unit/test_output.py
--update-goldens` (or TUNELINE_UPDATE_GOLDENS=1) and review the diff.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tuneline import __version__
from tuneline.lint.api import FileReport, Problem, lint_paths
from tuneline.lint.dataset import Summary
from tuneline.lint.findings import Finding, Severity
from tuneline.lint.output import FORMATS, render, render_summary

GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "golden"
SUFFIX = {"text": "txt", "json": "json", "sarif": "sarif", "github": "github"}


def golden_reports(monkeypatch: pytest.MonkeyPatch) -> list[FileReport]:
    """The golden input linted with the golden folder's tuneline.toml, paths relative."""
    monkeypatch.chdir(GOLDEN)
    return lint_paths(["input.jsonl"])


def normalise(out: str) -> str:
    """Output made independent of the installed version (SARIF names the tool version)."""
    return out.replace(f'"version": "{__version__}"', '"version": "<tuneline version>"') + "\n"


@pytest.mark.parametrize("fmt", FORMATS)
def test_golden(fmt: str, monkeypatch: pytest.MonkeyPatch, update_goldens: bool) -> None:
    out = normalise(render(golden_reports(monkeypatch), fmt))
    expected = GOLDEN / f"expected.{SUFFIX[fmt]}"
    if update_goldens:
        expected.write_text(out, encoding="utf-8", newline="\n")
        pytest.skip(f"rewrote {expected.name}")
    assert expected.is_file(), f"missing {expected}; run pytest --update-goldens"
    assert out == expected.read_text(encoding="utf-8")


def test_golden_input_covers_the_core_problems(monkeypatch: pytest.MonkeyPatch) -> None:
    """Guard against a golden that silently lost its problems (e.g. git normalised CRLF)."""
    problems = [p for r in golden_reports(monkeypatch) for p in r.problems()]
    got = {(p.rule, p.line) for p in problems}
    assert got == {("TL003", 1), ("TL004", 1), ("TL701", 1), ("TL006", 3), ("TL001", 4),
                   ("TL001", 5), ("TL007", 6), ("TL501", 7), ("TL002", 8), ("TL005", 9)}
    assert all(p.path == "input.jsonl" for p in problems)
    nan = next(p for p in problems if p.rule == "TL001" and p.line == 5)
    line5 = (GOLDEN / "input.jsonl").read_bytes().split(b"\n")[4].decode()
    assert line5[nan.column - 1 : nan.end_column - 1] == "NaN"
    assert nan.column == line5.rindex("NaN") + 1  # the bare constant, not the string "NaN"


# ----- the public problem shape --------------------------------------------------------------

F = Finding("TL001", "bad", Severity.ERROR, 2, 4, 2, 9)


def test_problem_is_one_based() -> None:
    p = Problem.of("a.jsonl", F)
    assert p.to_json() == {"path": "a.jsonl", "line": 3, "column": 5, "end_line": 3,
                           "end_column": 10, "severity": "error", "rule": "TL001",
                           "message": "bad"}
    assert list(p.to_json()) == ["path", "line", "column", "end_line", "end_column",
                                 "severity", "rule", "message"]


def _reports(*sevs: Severity) -> list[FileReport]:
    return [FileReport("d/x.jsonl", [Finding("TL006", f"m{i}", s, i, 0, i, 1)
                                     for i, s in enumerate(sevs)])]


# ----- text ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sevs", "tail"),
    [
        ((), "All checks passed."),
        ((Severity.ERROR,), "Found 1 error."),
        ((Severity.ERROR, Severity.ERROR, Severity.WARNING), "Found 2 errors, 1 warning."),
        ((Severity.HINT, Severity.INFO, Severity.INFO, Severity.WARNING, Severity.WARNING),
         "Found 2 warnings, 2 infos, 1 hint."),
    ],
)
def test_text_tail(sevs: tuple[Severity, ...], tail: str) -> None:
    lines = render(_reports(*sevs), "text").split("\n")
    assert lines[-1] == tail
    assert len(lines) == len(sevs) + 1


def test_text_line_shape() -> None:
    out = render([FileReport("d/x.jsonl", [F])], "text")
    assert out.split("\n")[0] == "d/x.jsonl:3:5: TL001 [error] bad"


# ----- json ----------------------------------------------------------------------------------


def test_json_is_one_array_over_all_files() -> None:
    reports = [FileReport("a.jsonl", [F]), FileReport("b.jsonl", []),
               FileReport("c.jsonl", [F.at(0)])]
    data = json.loads(render(reports, "json"))
    assert [(d["path"], d["line"]) for d in data] == [("a.jsonl", 3), ("c.jsonl", 1)]
    assert render([], "json") == "[]"


def test_json_keeps_unicode() -> None:
    out = render([FileReport("é.jsonl", [Finding("TL001", "«é»", Severity.ERROR)])], "json")
    assert "«é»" in out and json.loads(out)[0]["path"] == "é.jsonl"


# ----- sarif ---------------------------------------------------------------------------------


def test_sarif_structure() -> None:
    reports = [FileReport("dir\\x.jsonl", [
        Finding("TL501", "dup", Severity.WARNING, 1, 0, 1, 3),
        Finding("TL006", "blank", Severity.INFO, 2, 0, 2, 0),
        Finding("TL001", "bad", Severity.ERROR, 0, 2, 0, 3),
        Finding("TL005", "hint", Severity.HINT, 3, 0, 3, 0),
        Finding("TL999", "made up", Severity.ERROR, 0, 0, 0, 1),
    ])]
    doc = json.loads(render(reports, "sarif"))
    assert doc["version"] == "2.1.0"
    run = doc["runs"][0]
    driver = run["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("tuneline", __version__)
    assert [r["id"] for r in driver["rules"]] == ["TL001", "TL005", "TL006", "TL501"]
    assert driver["rules"][3]["defaultConfiguration"] == {"level": "warning"}
    assert driver["rules"][0]["name"] == "invalid-json"
    levels = [(r["ruleId"], r["level"], r.get("ruleIndex")) for r in run["results"]]
    assert levels == [("TL501", "warning", 3), ("TL006", "note", 2), ("TL001", "error", 0),
                      ("TL005", "note", 1), ("TL999", "error", None)]
    loc = run["results"][0]["locations"][0]["physicalLocation"]
    assert loc == {"artifactLocation": {"uri": "dir/x.jsonl"},
                   "region": {"startLine": 2, "startColumn": 1, "endLine": 2, "endColumn": 4}}


# ----- github --------------------------------------------------------------------------------


def test_github_levels_and_escaping() -> None:
    reports = [FileReport("we,ird:name%.jsonl", [
        Finding("TL001", "a: b, 100%\nnext\rline", Severity.ERROR, 0, 1, 0, 2),
        Finding("TL501", "w", Severity.WARNING, 1, 0, 1, 5),
        Finding("TL006", "i", Severity.INFO, 2, 0, 2, 0),
        Finding("TL005", "h", Severity.HINT, 3, 0, 3, 0),
    ])]
    lines = render(reports, "github").split("\n")
    assert lines[0] == ("::error file=we%2Cird%3Aname%25.jsonl,line=1,endLine=1,col=2,endColumn=3,"
                        "title=TL001::a: b, 100%25%0Anext%0Dline")
    assert [line.split(" ", 1)[0] for line in lines] == [
        "::error", "::warning", "::notice", "::notice"]
    assert render([], "github") == ""


# ----- stats summary -------------------------------------------------------------------------


def test_render_summary_full() -> None:
    s = Summary(examples=1234, lines=1240, format="chat", errors=1, warnings=3,
                messages={"min": 2, "median": 3.0, "p90": 4, "max": 9, "mean": 3.1},
                tokens={"min": 10, "median": 1500.5, "p90": 2000, "max": 70000, "mean": 1800.2},
                total_tokens=2_222_222, over_limit=2, limit=65_536, model="gpt-4o-mini",
                epochs=3, billed_tokens=6_600_000)
    assert render_summary("data/train.jsonl", s).split("\n") == [
        "data/train.jsonl",
        "  examples            1,234 (1,240 lines), format chat",
        "  problems            1 error, 3 warnings",
        "  messages/example    min 2  median 3.0  p90 4  max 9  mean 3.1",
        "  tokens/example      min 10  median 1,500.5  p90 2,000  max 70,000  mean 1,800.2"
        "  (gpt-4o-mini)",
        "  total tokens        2,222,222",
        "  over the limit      2 example(s) over 65,536 tokens",
        "  OpenAI estimate     3 epochs, ~6,600,000 billed training tokens",
    ]


def test_render_summary_empty() -> None:
    s = Summary(limit=4096, model="local-model")
    assert render_summary("x.jsonl", s).split("\n") == [
        "x.jsonl",
        "  examples            0 (0 lines), format unknown",
        "  problems            0 errors, 0 warnings",
        "  messages/example    n/a",
        "  tokens/example      n/a  (local-model)",
        "  over the limit      0 example(s) over 4,096 tokens",
    ]
