"""Import every rule family so the registry is complete."""

from tuneline.lint import check, config  # noqa: F401
from tuneline.lint.rules import (  # noqa: F401
    bytes_json,
    content,
    dataset_rules,
    format,
    pii,
    structure,
    tokens_rule,
    tools,
)
