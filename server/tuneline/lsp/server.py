"""`tuneline serve`: the language server over stdio.

Importing this module is cheap on purpose: `main()` answers `initialize` from bootstrap.py
while pygls, lsprotocol and the lint core are still importing (about a second on a small
machine), then hands the connection to the full server in app.py.
"""

from __future__ import annotations

import logging
import os
import sys


def main() -> int:
    """Serve LSP on stdin/stdout until the client says exit; the process exit code."""
    from tuneline.lsp.bootstrap import serve_stdio

    # Hand the GIL over sooner: edits are handled on the event loop while background threads
    # (big builds, token counts) compute; 1 ms instead of 5 ms bounds what an edit waits.
    sys.setswitchinterval(0.001)
    logging.basicConfig(level=os.environ.get("TUNELINE_SERVER_LOG", "WARNING").upper(),
                        stream=sys.stderr, format="tuneline-lsp %(levelname)s %(message)s")
    return serve_stdio()
