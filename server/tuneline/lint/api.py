"""Entry points shared by the CLI, the language server and the training preflight."""

from __future__ import annotations

import gc
import glob
import multiprocessing
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from tuneline.lint.check import LineResult, check_lines
from tuneline.lint.config import Config, LoadedConfig, load_config
from tuneline.lint.context import LintContext
from tuneline.lint.dataset import Dataset, Summary
from tuneline.lint.findings import Finding, Severity
from tuneline.lint.source import (
    RangeReader,
    SourceStats,
    file_findings,
    iter_lines,
    split_ranges,
    split_text,
)

BLOCK_LINES = 2048
PARALLEL_MIN_BYTES = 8 << 20
EXCLUDED_DIRS = frozenset({".git", "node_modules", "runs", ".venv", "venv", "__pycache__",
                           ".tox", ".mypy_cache", ".pytest_cache"})
DATA_SUFFIXES = (".jsonl",)


@dataclass(frozen=True, slots=True)
class Problem:
    """The public shape of a finding: 1-based lines and columns (the JSON output contract)."""

    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    severity: str
    rule: str
    message: str

    @classmethod
    def of(cls, path: str, f: Finding) -> Problem:
        return cls(path, f.line + 1, f.col + 1, f.end_line + 1, f.end_col + 1,
                   f.severity.label, f.rule, f.message)

    def to_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}


@dataclass
class FileReport:
    """One file's findings (0-based) and, when asked, its summary."""

    path: str
    findings: list[Finding] = field(default_factory=list)
    summary: Summary | None = None
    error: str | None = None  # the file could not be read

    def problems(self) -> list[Problem]:
        return [Problem.of(self.path, f) for f in self.findings]


class PathError(Exception):
    """A path argument that names nothing lintable."""


def expand_paths(args: Iterable[str]) -> list[Path]:
    """Files, folders (every *.jsonl below, skipping .git/node_modules/runs/venvs) and globs."""
    out: list[Path] = []
    for arg in args:
        p = Path(arg)
        if p.is_file():
            out.append(p)
        elif p.is_dir():
            out.extend(_walk(p))
        elif any(ch in arg for ch in "*?["):
            matches = [Path(m) for m in sorted(glob.glob(arg, recursive=True)) if Path(m).is_file()]
            if not matches:
                raise PathError(f"{arg}: the pattern matches no file")
            out.extend(matches)
        else:
            raise PathError(f"{arg}: no such file or directory")
    return list(dict.fromkeys(out))


def _walk(folder: Path) -> Iterator[Path]:
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d not in EXCLUDED_DIRS and not d.startswith("."))
        for name in sorted(files):
            if name.endswith(DATA_SUFFIXES):
                yield Path(root) / name


def context_for(path: str | os.PathLike[str] | None, loaded: LoadedConfig,
                count_tokens: bool = False) -> LintContext:
    """The lint context for one file: config overrides applied, eval-file keys loaded."""
    cfg = loaded.config.for_path(path)
    ctx = LintContext(cfg, count_tokens=count_tokens)
    if cfg.eval_file and path is not None:
        eval_path = _relative_to_config(cfg, cfg.eval_file)
        if eval_path.resolve() != Path(path).resolve():
            ctx.eval_keys = eval_keys(eval_path, cfg)
    return ctx


def _relative_to_config(cfg: Config, name: str) -> Path:
    base = Path(cfg.source).parent if cfg.source else Path.cwd()
    p = Path(name)
    return p if p.is_absolute() else base / p


def eval_keys(path: Path, cfg: Config) -> dict[bytes, str]:
    """Example and prompt keys of the eval file → "file:line" (empty if unreadable)."""
    ds = Dataset(LintContext(replace(cfg, eval_file=None)), keep_text=False)
    try:
        _feed(ds, path, workers=1)
    except OSError:
        return {}
    keys: dict[bytes, str] = {}
    for i, r in enumerate(ds.results):
        for k in (r.dup_key, r.prompt_key):
            if k is not None:
                keys.setdefault(k, f"{path.name}:{i + 1}")
    return keys


def _check_stream(stream: Any, ctx: LintContext, at_start: bool = True
                  ) -> tuple[list[LineResult], list[Finding], SourceStats]:
    """Results of every line of a byte stream, byte-level findings, and what the bytes showed."""
    stats = SourceStats()
    results: list[LineResult] = []
    extra: list[Finding] = []
    block: list[str] = []
    for text, problem in iter_lines(stream, stats, at_start=at_start):
        if problem is not None and ctx.on(problem.rule):
            extra.append(problem)
        block.append(text)
        if len(block) >= BLOCK_LINES:
            results.extend(check_lines(block, ctx))
            block = []
    if block:
        results.extend(check_lines(block, ctx))
    return results, extra, stats


_worker_ctx: LintContext | None = None


def _check_range(job: tuple[str, int, int]) -> tuple[list[LineResult], list[Finding], SourceStats]:
    path, start, end = job
    reader = RangeReader(path, start, end)
    try:
        assert _worker_ctx is not None
        return _check_stream(reader, _worker_ctx, at_start=start == 0)
    finally:
        reader.close()


def _feed(ds: Dataset, path: str | os.PathLike[str], workers: int) -> SourceStats:
    """Check the file into `ds`, in `workers` forked processes when it is big enough."""
    global _worker_ctx
    size = os.path.getsize(path)
    total = SourceStats()
    if workers > 1 and size >= PARALLEL_MIN_BYTES and "fork" in multiprocessing.get_all_start_methods():
        _worker_ctx = ds.ctx
        jobs = [(str(path), a, b) for a, b in split_ranges(str(path), workers)]
        # The first range is checked here while forked workers take the rest: this process's
        # core works too, its share needs no pickling, and it is merged while workers finish.
        with multiprocessing.get_context("fork").Pool(max(1, len(jobs) - 1)) as pool:
            rest = pool.map_async(_check_range, jobs[1:])
            _merge(ds, _check_range(jobs[0]), total)
            for part in rest.get():
                _merge(ds, part, total)
        _worker_ctx = None
    else:
        with open(path, "rb") as fh:
            _merge(ds, _check_stream(fh, ds.ctx), total)
    return total


def _merge(ds: Dataset, part: tuple[list[LineResult], list[Finding], SourceStats],
           total: SourceStats) -> None:
    """Append one range's results (in file order) and fold its byte statistics into `total`."""
    results, extra, stats = part
    if not ds.results:
        total.bom = stats.bom
    offset = len(ds.results)
    ds.extra.extend(f.at(f.line + offset) for f in extra)
    ds.extend_results(results)
    total.crlf_lines += stats.crlf_lines
    total.size += stats.size
    total.final_newline = stats.final_newline
    total.lines = len(ds.results)


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


def lint_file(path: str | os.PathLike[str], loaded: LoadedConfig | None = None,
              stats: bool = False, workers: int = 1) -> FileReport:
    """Lint one file from disk, streaming it; never raises for bad content or I/O.

    `workers` > 1 splits big files across forked processes (CLI only: not from threads).
    """
    loaded = loaded or load_config(path)
    report = FileReport(str(path))
    enabled = gc.isenabled()
    gc.disable()  # millions of small objects: collection passes would dominate the run
    try:
        ctx = context_for(path, loaded, count_tokens=stats)
        ds = Dataset(ctx, keep_text=False)
        src = _feed(ds, path, workers)
    except OSError as exc:
        report.error = f"{path}: {exc.strerror or exc}"
        return report
    finally:
        if enabled:
            gc.enable()
    head = ds.results[0].width if ds.results else 0  # file findings sit on line 1's first char
    ds.extra.extend(f if f.end_col <= head else replace(f, end_col=head)
                    for f in file_findings(src) if ctx.on(f.rule))
    ds.extra.extend(_context_problems(ctx))
    report.findings = ds.findings()
    if stats:
        report.summary = ds.summary()
    return report


def _context_problems(ctx: LintContext) -> list[Finding]:
    if ctx.config.assistant_schema:
        _ = ctx.assistant_validator
    return [Finding("TL902", p, Severity.ERROR) for p in ctx.problems]


def lint_text(text: str, path: str | None = None, config: Config | None = None) -> list[Finding]:
    """Lint text already in memory (the editor's buffer); 0-based findings."""
    loaded = LoadedConfig(config) if config else load_config(path or Path.cwd())
    ds = Dataset(context_for(path, loaded))
    ds.set_lines(split_text(text))
    return ds.findings()


def explicit_config(config_file: str | None) -> LoadedConfig | None:
    """The config named on the command line; PathError when it is not a file."""
    if not config_file:
        return None
    if not Path(config_file).is_file():
        raise PathError(f"{config_file}: no such config file")
    return load_config(explicit=config_file)


def shown_path(path: str) -> str:
    """`path` as reports show it: relative to the working directory when below it."""
    try:
        return Path(path).resolve().relative_to(Path.cwd().resolve()).as_posix()
    except (ValueError, OSError):
        return path


def lint_paths(paths: Iterable[str], config_file: str | None = None,
               stats: bool = False, workers: int = 1,
               overrides: dict[str, Any] | None = None) -> list[FileReport]:
    """Lint files, folders and globs; config from `config_file` or found per file, with
    `overrides` (Config fields, e.g. from CLI flags) applied on top.

    Raises PathError when an argument names nothing.
    """
    reports: list[FileReport] = []
    explicit = explicit_config(config_file)
    seen_configs: set[str] = set()
    for path in expand_paths(paths):
        loaded = explicit or load_config(path)
        src = loaded.config.source
        if src and src not in seen_configs:
            seen_configs.add(src)
            if loaded.problems:
                reports.append(FileReport(shown_path(src), list(loaded.problems)))
        if overrides:
            loaded = LoadedConfig(replace(loaded.config, **overrides), loaded.problems)
        reports.append(lint_file(path, loaded, stats=stats, workers=workers))
    return reports
