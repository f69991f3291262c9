"""Pull diagnostics (`textDocument/diagnostic`), for clients that ask instead of listen."""

from __future__ import annotations

from lsprotocol import types

from tuneline.lsp.app import RawJson, TunelineServer
from tuneline.lsp.diagnostics import full_report


def register(ls: TunelineServer) -> None:
    options = types.DiagnosticOptions(inter_file_dependencies=False, workspace_diagnostics=False,
                                      identifier="tuneline")

    @ls.feature(types.TEXT_DOCUMENT_DIAGNOSTIC, options)
    async def diagnostic(ls: TunelineServer, params: types.DocumentDiagnosticParams) -> RawJson:
        doc = ls.docs.get(params.text_document.uri)
        if doc is None:
            return RawJson(full_report("closed", "[]"))
        return RawJson(await ls.publisher.pull(doc, params.previous_result_id))
