"""`tuneline` command line: lint, stats, rules, serve, and the job commands (train, runs, …).

Heavy imports (torch, transformers) happen only inside job commands, so `lint` and `serve`
start fast. Exit codes: 0 ok, 1 problems/failure, 2 usage or I/O error, 130 cancelled.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from tuneline import __version__


def _add_lint(sub: argparse._SubParsersAction) -> None:
    from tuneline.lint import OUTPUT_FORMATS as FORMATS

    p = sub.add_parser("lint", help="check fine-tuning JSONL files (files, folders, globs)")
    p.add_argument("paths", nargs="*", default=["."], help="files, folders or globs (default: .)")
    p.add_argument("--format", choices=FORMATS, default="text", help="output format")
    p.add_argument("--config", help="use this tuneline.toml / pyproject.toml")
    p.add_argument("--stats", action="store_true", help="also print each file's summary")
    p.add_argument("--select", help="comma-separated rules to enable (ids, prefixes, names)")
    p.add_argument("--ignore", help="comma-separated rules to disable")
    p.add_argument("--model", help="target model (token limit and tokenizer)")
    p.add_argument("--data-format", dest="data_format", help="force the record format")
    p.add_argument("--exit-zero", action="store_true", help="exit 0 even when errors are found")
    p.add_argument("--jobs", "-j", type=int, default=0,
                   help="worker processes for big files (default: one per CPU)")
    p.set_defaults(func=_run_lint)

    s = sub.add_parser("stats", help="dataset summary: examples, messages, tokens, cost")
    s.add_argument("paths", nargs="+")
    s.add_argument("--config")
    s.add_argument("--model", help="target model (token limit and tokenizer)")
    s.add_argument("--json", action="store_true", help="print the summary as JSON")
    s.add_argument("--jobs", "-j", type=int, default=0, help="worker processes (default: CPUs)")
    s.set_defaults(func=_run_stats)

    r = sub.add_parser("rules", help="list the rules, or explain one")
    r.add_argument("rule", nargs="?", help="a rule id or name to explain")
    r.add_argument("--json", action="store_true")
    r.add_argument("--markdown", action="store_true", help="the rule table as Markdown")
    r.set_defaults(func=_run_rules)


def _with_overrides(args: argparse.Namespace) -> list:
    """Lint reports with CLI overrides (select/ignore/model/format) applied to each config."""
    from tuneline.lint import api

    overrides: dict = {}
    if getattr(args, "select", None):
        overrides["select"] = tuple(args.select.split(","))
    if getattr(args, "ignore", None):
        overrides["ignore"] = tuple(args.ignore.split(","))
    if getattr(args, "model", None):
        overrides["model"] = args.model
    if getattr(args, "data_format", None):
        overrides["format"] = args.data_format
    stats = bool(getattr(args, "stats", False) or args.command == "stats")
    return api.lint_paths(args.paths, args.config, stats=stats,
                          workers=args.jobs or api.default_workers(), overrides=overrides)


def _run_lint(args: argparse.Namespace) -> int:
    from tuneline.lint.output import render, render_summary

    reports = _with_overrides(args)
    failed = [r for r in reports if r.error]
    for r in failed:
        print(f"tuneline: {r.error}", file=sys.stderr)
    out = render(reports, args.format)
    if out:
        print(out)
    if args.stats and args.format == "text":
        for r in reports:
            if r.summary:
                print(render_summary(r.path, r.summary))
    if failed:
        return 2
    errors = any(f.severity == 1 for r in reports for f in r.findings)
    return 1 if errors and not args.exit_zero else 0


def _run_stats(args: argparse.Namespace) -> int:
    from tuneline.lint.output import render_summary

    reports = _with_overrides(args)
    status = 0
    summaries = {}
    for r in reports:
        if r.error:
            print(f"tuneline: {r.error}", file=sys.stderr)
            status = 2
        elif r.summary:
            summaries[r.path] = r.summary
    if args.json:
        print(json.dumps({p: s.to_json() for p, s in summaries.items()}, indent=2))
    else:
        print("\n\n".join(render_summary(p, s) for p, s in summaries.items()))
    return status


def _run_rules(args: argparse.Namespace) -> int:
    import tuneline.lint.rules.all  # noqa: F401
    from tuneline.lint.rules import REGISTRY, resolve

    rules = resolve(args.rule) if args.rule else sorted(REGISTRY.values(), key=lambda r: r.id)
    if not rules:
        print(f"tuneline: no rule '{args.rule}' (see `tuneline rules`)", file=sys.stderr)
        return 2
    if args.markdown:
        print("| id | name | severity | what it checks | why it matters / fix |")
        print("|---|---|---|---|---|")
        for r in rules:
            cell = f"{r.why} Fix: {r.fix}".replace("|", "\\|")
            print(f"| {r.id} | `{r.name}` | {r.severity.label} | {r.summary.replace('|', '/')} | {cell} |")
        return 0
    if args.json:
        print(json.dumps([{"id": r.id, "name": r.name, "severity": r.severity.label,
                           "summary": r.summary, "why": r.why, "fix": r.fix, "scope": r.scope}
                          for r in rules], indent=2))
        return 0
    for r in rules:
        if args.rule:
            print(f"{r.id} {r.name} ({r.severity.label}, {r.scope})\n  {r.summary}\n"
                  f"  Why: {r.why}\n  Fix: {r.fix}\n")
        else:
            print(f"{r.id}  {r.name:<28} {r.severity.label:<8} {r.summary}")
    return 0


def _add_serve(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="run the language server over stdio")
    p.add_argument("--stdio", action="store_true", help="(default) speak LSP over stdin/stdout")
    p.set_defaults(func=_run_serve)


def _run_serve(args: argparse.Namespace) -> int:
    try:
        from tuneline.lsp.server import main as serve
    except ImportError as exc:
        print(f"tuneline: the language server is not available: {exc}", file=sys.stderr)
        return 2
    return serve() or 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tuneline", description="Fine-tuning datasets and runs: lint, serve, train, eval.")
    parser.add_argument("--version", action="version", version=f"tuneline {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_lint(sub)
    _add_serve(sub)
    for plugin in _job_parsers():
        plugin(sub)
    return parser


def _job_parsers() -> list:
    """Subcommand registrars of the job packages present (train, eval, augment)."""
    found = []
    for module, name in (("tuneline.train.cli", "add_train_parsers"),
                         ("tuneline.evaluate.cli", "add_eval_parsers"),
                         ("tuneline.augment.cli", "add_augment_parsers")):
        try:
            mod = __import__(module, fromlist=[name])
        except ImportError:
            continue
        found.append(getattr(mod, name))
    return found


def main(argv: Sequence[str] | None = None) -> int:
    from tuneline.lint.api import PathError

    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except PathError as exc:
        print(f"tuneline: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("tuneline: cancelled", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
