"""The lint core: pure Python, no editor and no torch imports.

`api` is the entry point for the CLI and the language server; `dataset.Dataset` holds a
file's per-line results so re-linting after an edit costs work proportional to the edit.
"""

OUTPUT_FORMATS = ("text", "json", "sarif", "github")
