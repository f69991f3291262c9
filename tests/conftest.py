"""Shared pytest setup. Keep it small: other suites add their own fixtures here."""

from __future__ import annotations

import os

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-goldens",
        action="store_true",
        default=False,
        help="rewrite tests/fixtures/golden/* from the current output "
        "(same as TUNELINE_UPDATE_GOLDENS=1)",
    )


@pytest.fixture
def update_goldens(request: pytest.FixtureRequest) -> bool:
    """True when golden files should be rewritten instead of compared."""
    flag = bool(request.config.getoption("--update-goldens"))
    return flag or os.environ.get("TUNELINE_UPDATE_GOLDENS", "") not in ("", "0")
