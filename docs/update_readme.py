"""Regenerate the README's generated sections (rule table, config table) from the code.

Run: python docs/update_readme.py   (tests/unit/test_readme.py fails when the README is stale)
"""

from __future__ import annotations

import re
import sys
from dataclasses import MISSING, fields
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def rule_table() -> str:
    import tuneline.lint.rules.all  # noqa: F401
    from tuneline.lint.rules import REGISTRY

    rows = ["| id | name | severity | what it checks | why it matters · how to fix |",
            "|---|---|---|---|---|"]
    for r in sorted(REGISTRY.values(), key=lambda r: r.id):
        why = f"{r.why} *Fix:* {r.fix}".replace("|", "\\|")
        rows.append(f"| {r.id} | `{r.name}` | {r.severity.label} | "
                    f"{r.summary.replace('|', chr(92) + '|')} | {why} |")
    return "\n".join(rows)


def config_table() -> str:
    from tuneline.lint.config import Config

    rows = ["| key | default | meaning |", "|---|---|---|"]
    for f in fields(Config):
        if f.name == "source":
            continue
        default = f.default if f.default is not MISSING else f.default_factory()  # type: ignore[misc]
        shown = "none" if default is None else repr(default).replace("'", '"')
        rows.append(f"| `{f.name}` | `{shown}` | {f.metadata.get('help', '')} |")
    return "\n".join(rows)


def render(text: str) -> str:
    for name, build in (("rules", rule_table), ("config", config_table)):
        text = re.sub(rf"<!-- {name}:start -->.*?<!-- {name}:end -->",
                      lambda _m, n=name, b=build: f"<!-- {n}:start -->\n{b()}\n<!-- {n}:end -->",
                      text, flags=re.S)
    return text


def main() -> int:
    text = README.read_text("utf-8")
    new = render(text)
    if "--check" in sys.argv:
        if new != text:
            print("README.md is stale: run python docs/update_readme.py", file=sys.stderr)
            return 1
        return 0
    README.write_text(new, "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
