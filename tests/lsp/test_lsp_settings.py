"""Settings: workspace/configuration (`tuneline` section) over tuneline.toml, re-lint on
change, and the config file's own problems as diagnostics."""

from __future__ import annotations

import pytest
from lsp_helpers import change, chat, command, diagnostics_for, lsp_fixture, open_doc, wait_for
from lsprotocol import types

pytestmark = pytest.mark.asyncio(loop_scope="module")

SHORT = chat(answer="ok")
TOML = 'model = "gpt-4o-2024-08-06"\nmin_answer_chars = 10\n'
client = lsp_fixture(settings={"model": "gpt-3.5-turbo-0125", "ignore": ["TL701", "TL702"]},
                     files={"tuneline.toml": TOML})


def codes(params) -> list[str]:
    return sorted(str(d.code) for d in params.diagnostics)


async def hover_text(client, uri: str) -> str:
    result = await client.text_document_hover_async(types.HoverParams(
        types.TextDocumentIdentifier(uri=uri), types.Position(0, 1)))
    return result.contents.value


@pytest.fixture(scope="module")
def data_uri(client) -> str:
    return (client.root / "data.jsonl").as_uri()


async def test_editor_settings_override_the_toml(client, data_uri):
    open_doc(client, data_uri, SHORT + "\n")
    params = await diagnostics_for(client, data_uri, 1)
    assert codes(params) == ["TL204"]  # TL701 ignored by the editor setting
    assert "(gpt-3.5-turbo-0125)" in await hover_text(client, data_uri)  # not the toml's gpt-4o
    status = await command(client, "tuneline.serverStatus")
    assert status["settings"]["model"] == "gpt-3.5-turbo-0125"


async def test_settings_change_relints_open_files(client, data_uri):
    n = len(client.published)
    client.set_configuration({"tuneline": {"select": ["TL7"]}})
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
    params = await wait_for(lambda: next((p for p in client.published[n:] if p.uri == data_uri), None))
    assert params.version == 1
    assert codes(params) == ["TL701"]
    assert "(gpt-4o-2024-08-06)" in await hover_text(client, data_uri)  # model unset: the toml's


async def test_pushed_settings_in_the_notification_are_used(client, data_uri):
    n = len(client.published)
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"tuneline": {"select": ["TL2"]}}))
    params = await wait_for(lambda: next((p for p in client.published[n:] if p.uri == data_uri), None))
    assert codes(params) == ["TL204"]


async def test_bad_settings_are_logged(client):
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"tuneline": {"select": ["TL2"], "debounceMs": "soon", "format": "yaml"}}))
    await wait_for(lambda: [m for m in client.log_messages if "tuneline.debounceMs" in m.message])
    assert [m for m in client.log_messages if "tuneline.format must be one of" in m.message]


async def test_config_file_problems_while_typing(client):
    uri = (client.root / "tuneline.toml").as_uri()
    open_doc(client, uri, TOML + "min_answr_chars = 3\n", language="toml")
    params = await diagnostics_for(client, uri, 1)
    [d] = params.diagnostics
    assert d.code == "TL901" and "did you mean 'min_answer_chars'" in d.message
    assert d.range == types.Range(types.Position(2, 0), types.Position(2, 15))
    change(client, uri, 2, [((2, 0), (3, 0), "")])
    assert list((await diagnostics_for(client, uri, 2)).diagnostics) == []
    change(client, uri, 3, [((1, 19), (1, 21), '"ten"')])
    bad = await diagnostics_for(client, uri, 3)
    assert [d.code for d in bad.diagnostics] == ["TL902"]
    assert bad.diagnostics[0].severity == types.DiagnosticSeverity.Error


async def test_saving_the_toml_relints_data_files(client, data_uri):
    uri = (client.root / "tuneline.toml").as_uri()
    new = 'model = "gpt-4o-2024-08-06"\nmin_answer_chars = 10\nseverity = {TL204 = "error"}\n'
    change(client, uri, 4, [((0, 0), (3, 0), new)])
    n = len(client.published)
    (client.root / "tuneline.toml").write_text(new, "utf-8")
    client.text_document_did_save(types.DidSaveTextDocumentParams(types.TextDocumentIdentifier(uri)))

    def relinted():
        for p in client.published[n:]:
            if p.uri == data_uri and p.diagnostics and p.diagnostics[0].severity == 1:
                return p
        return None

    params = await wait_for(relinted, what="TL204 as an error after saving tuneline.toml")
    assert codes(params) == ["TL204"]


async def test_toml_changed_on_disk_relints(client, data_uri):
    client.text_document_did_close(types.DidCloseTextDocumentParams(
        types.TextDocumentIdentifier((client.root / "tuneline.toml").as_uri())))
    n = len(client.published)
    (client.root / "tuneline.toml").write_text("min_answer_chars = 1\n", "utf-8")
    params = await wait_for(lambda: next((p for p in client.published[n:]
                                          if p.uri == data_uri and not p.diagnostics), None),
                            what="TL204 gone after tuneline.toml changed on disk")
    assert params.version == 1
