"""The server's capabilities as plain JSON, for the early `initialize` answer.

Stdlib only: bootstrap.py sends this before pygls is imported. After start-up the server
compares it with what pygls computes from the registered features and logs any difference
(`tuneline.serverStatus` reports `capabilities_match`; a test keeps them equal).
"""

from __future__ import annotations

from typing import Any

from tuneline import __version__
from tuneline.lsp.convert import choose_encoding

COMMANDS = (
    "tuneline.serverStatus", "tuneline.lintWorkspace", "tuneline.datasetStats",
    "tuneline.train", "tuneline.evaluate", "tuneline.augment", "tuneline.listRuns",
    "tuneline.cancelRun",
)
CODE_ACTION_KINDS = ("quickfix", "source.fixAll.tuneline", "refactor.rewrite")


def server_capabilities(client: dict[str, Any]) -> dict[str, Any]:
    """ServerCapabilities (JSON) for a client's capabilities (JSON)."""
    general = client.get("general") or {}
    sync_caps = (client.get("textDocument") or {}).get("synchronization") or {}
    sync: dict[str, Any] = {"openClose": True, "change": 2}
    for key in ("willSave", "willSaveWaitUntil"):  # pygls echoes these only when offered
        if sync_caps.get(key) is not None:
            sync[key] = False
    sync["save"] = {"includeText": False}
    return {
        "positionEncoding": choose_encoding(general.get("positionEncodings")),
        "textDocumentSync": sync,
        "hoverProvider": True,
        "documentSymbolProvider": True,
        "codeActionProvider": {"codeActionKinds": list(CODE_ACTION_KINDS),
                               "resolveProvider": False},
        "codeLensProvider": {"resolveProvider": False},
        "executeCommandProvider": {"commands": list(COMMANDS)},
        "inlayHintProvider": {"resolveProvider": False},
        "diagnosticProvider": {"interFileDependencies": False, "workspaceDiagnostics": False,
                               "identifier": "tuneline"},
        "workspace": {"workspaceFolders": {"supported": True, "changeNotifications": True},
                      "fileOperations": {}},
    }


def initialize_result(params: dict[str, Any]) -> dict[str, Any]:
    """The InitializeResult (JSON) for an initialize request's params (JSON)."""
    return {"capabilities": server_capabilities(params.get("capabilities") or {}),
            "serverInfo": {"name": "tuneline", "version": __version__}}
