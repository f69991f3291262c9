"""Start-up: initialize is answered early, the capabilities match pygls', and the server
process never loads torch, transformers or peft."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from lsp_helpers import command, lsp_fixture

pytestmark = pytest.mark.asyncio(loop_scope="module")
client = lsp_fixture()


async def test_initialize_result(client):
    result = client.init_result
    assert result.server_info.name == "tuneline"
    assert result.capabilities.position_encoding == "utf-16"
    assert result.capabilities.diagnostic_provider.identifier == "tuneline"
    assert "tuneline.train" in result.capabilities.execute_command_provider.commands


async def test_early_answer_matches_pygls(client):
    status = await command(client, "tuneline.serverStatus")
    assert status["early_initialize"] is True
    assert status["capabilities_match"] is True
    assert not [m for m in client.log_messages if "differs" in m.message]


async def test_no_training_libraries_in_the_server_process(client):
    status = await command(client, "tuneline.serverStatus")
    assert status["heavy_modules"] == []
    maps = Path(f"/proc/{status['pid']}/maps")
    if sys.platform != "linux" or not maps.exists():
        pytest.skip("needs /proc")
    loaded = maps.read_text()
    for lib in ("libtorch", "/torch/", "/transformers/", "/peft/"):
        assert lib not in loaded
    assert "site-packages/pygls" not in loaded  # pure Python modules are not mapped…
    cmdline = Path(f"/proc/{status['pid']}/cmdline").read_bytes().split(b"\0")
    assert b"serve" in cmdline  # …and it is the real server process
