"""Fast start: answer `initialize` before the heavy imports finish, then hand over to pygls.

Importing lsprotocol alone takes most of a second on a 2-core machine (attrs generates code
for ~1000 classes). So the first message is read here with the standard library, answered
from capabilities.py while app.py imports in a thread, and then replayed into pygls (whose
own answer is dropped, and compared with ours) so pygls' state is exactly as if it had
answered itself. Stdlib only at import time.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import threading
from typing import Any, BinaryIO

from tuneline.lsp import capabilities

log = logging.getLogger("tuneline.lsp")


def read_message(stream: BinaryIO) -> bytes | None:
    """One LSP message body (None at end of input)."""
    length = None
    while True:
        header = stream.readline()
        if not header:
            return None
        if header in (b"\r\n", b"\n"):
            if length is not None:
                break
            continue
        name, _, value = header.decode("ascii", "replace").partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    body = stream.read(length)
    return body if len(body) == length else None


def write_message(stream: BinaryIO, body: dict[str, Any]) -> None:
    data = json.dumps(body).encode("utf-8")
    stream.write(b"Content-Length: %d\r\n\r\n" % len(data) + data)
    stream.flush()


class _Loader(threading.Thread):
    """Imports the full server and builds it, off the main thread."""

    def __init__(self) -> None:
        super().__init__(name="tuneline-import", daemon=True)
        self.server: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            from tuneline.lsp.app import build_server

            self.server = build_server()
        except BaseException as exc:  # reported by serve_stdio
            self.error = exc


def serve_stdio(stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> int:
    """Run the server on stdio; returns the exit code (0 after shutdown + exit)."""
    stdin = stdin or sys.stdin.buffer
    stdout = stdout or sys.stdout.buffer
    loader = _Loader()
    loader.start()
    first = read_message(stdin)
    answered = None
    if first is not None:
        try:
            message = json.loads(first)
        except ValueError:
            message = None
        if isinstance(message, dict) and message.get("method") == "initialize" and "id" in message:
            params = message.get("params") or {}
            write_message(stdout, {"jsonrpc": "2.0", "id": message["id"],
                                   "result": capabilities.initialize_result(params)})
            answered = message["id"]
    loader.join()
    if loader.error is not None:
        print(f"tuneline: the language server failed to start: {loader.error!r}", file=sys.stderr)
        return 2
    if first is None:
        return 1
    return _run(loader.server, stdin, stdout, first, answered)


def _run(server: Any, stdin: BinaryIO, stdout: BinaryIO, first: bytes, answered: Any) -> int:
    from pygls.io_ import StdinAsyncReader, StdoutWriter, run_async

    protocol = server.protocol
    server._stop_event = stop = threading.Event()

    async def loop() -> None:
        protocol.set_writer(StdoutWriter(stdout))
        if answered is not None:
            protocol.quiet_ids.add(answered)
        try:
            protocol.handle_message(json.loads(first, object_hook=protocol.structure_message))
        except Exception as exc:
            log.exception("the first message could not be handled")
            server.report_server_error(exc, type(exc))
        await run_async(stop_event=stop, reader=StdinAsyncReader(stdin, server.thread_pool),
                        protocol=protocol, logger=log, error_handler=server.report_server_error)

    code = 1
    try:
        asyncio.run(loop())
        code = 0 if protocol._shutdown else 1  # input ended
    except SystemExit as exc:  # pygls exits the process on the `exit` notification
        code = exc.code if isinstance(exc.code, int) else 1
    except (KeyboardInterrupt, BrokenPipeError):
        code = 1
    finally:
        server.shutdown()
    return code
