"""Language-server latency with a real LSP client (pygls) over stdio, on a 100,000-line file.

Measures, against `python -m tuneline serve`:
  * initialize: from spawning the server to the initialize answer (target < 1 s);
  * first diagnostics: from sending didOpen (the whole file) to its publishDiagnostics, compared
    with the lint core's own full-file time (`api.lint_file`, one process; target ≤ 1.2×);
  * edit latency: single-line edits spaced apart (typing inside a line, pasting a line, deleting
    a line); from sending didChange to the publishDiagnostics of that version (target p95 ≤ 50 ms).
Prints p50 / p95 / max and each ratio to its target.

Open times are the best of --repeat runs (each: the core in a fresh process, then the server
opening the file under a new URI), as the machine may be busy. With --views the client asks
for code lens, inlay hints and the outline right after opening, like VS Code does, so the
edits run while the server counts tokens in the background.

Usage: python bench/lsp_latency.py [--examples 100000] [--edits 60] [--gap 0.25] [--repeat 2]
                                   [--views]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient

sys.path.insert(0, str(Path(__file__).parent))
import synth

SERVER = [sys.executable, "-m", "tuneline", "serve"]
EDIT_TARGET_MS = 50.0
INIT_TARGET_S = 1.0
OPEN_SLACK = 1.2


def core_seconds(path: Path) -> float:
    """The lint core's full-file time (api.lint_file, single process), in a fresh process."""
    code = ("import sys, time; from tuneline.lint import api; t = time.perf_counter(); "
            "api.lint_file(sys.argv[1]); print(time.perf_counter() - t)")
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True,
                         check=True)
    return float(out.stdout.strip())


class Client(LanguageClient):
    """Records when each document version's diagnostics arrive."""

    def __init__(self) -> None:
        super().__init__("tuneline-bench", "1")
        self.arrived: dict[tuple[str, int | None], float] = {}
        self.waiters: dict[tuple[str, int | None], asyncio.Future[float]] = {}

        @self.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def published(params: types.PublishDiagnosticsParams) -> None:
            key = (params.uri, params.version)
            now = time.perf_counter()
            self.arrived.setdefault(key, now)
            fut = self.waiters.pop(key, None)
            if fut is not None and not fut.done():
                fut.set_result(now)

        for method in (types.WINDOW_WORK_DONE_PROGRESS_CREATE, types.CLIENT_REGISTER_CAPABILITY):
            self.feature(method)(lambda params: None)

        @self.feature(types.WORKSPACE_CONFIGURATION)
        def configuration(params: types.ConfigurationParams) -> list[None]:
            return [None for _ in params.items]

    async def diagnostics(self, uri: str, version: int, timeout: float = 600) -> float:
        key = (uri, version)
        if key in self.arrived:
            return self.arrived[key]
        fut = self.waiters[key] = asyncio.get_running_loop().create_future()
        return await asyncio.wait_for(fut, timeout)


def edits(rng: random.Random, lines: list[str], n: int) -> list[tuple[str, int, types.Range, str]]:
    """Single-line edits: mostly typing inside an answer, some line pastes and deletions."""
    out = []
    count = len(lines)
    for _ in range(n):
        kind = rng.choices(("type", "paste", "delete"), weights=(8, 1, 1))[0]
        i = rng.randrange(1, count - 1)
        if kind == "type":
            col = lines[i].index("Reference ")
            out.append((kind, i, types.Range(types.Position(i, col), types.Position(i, col)), "x"))
        elif kind == "paste":
            new = json.dumps(synth.example(rng, count + i), ensure_ascii=False)
            out.append((kind, i, types.Range(types.Position(i, 0), types.Position(i, 0)), new + "\n"))
            count += 1
        else:
            out.append((kind, i, types.Range(types.Position(i, 0), types.Position(i + 1, 0)), ""))
            count -= 1
    return out


async def run(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        path = synth.write(Path(tmp) / "train.jsonl", args.examples)
        text = path.read_text("utf-8")
        lines = text.split("\n")
        print(f"file: {args.examples:,} examples, {path.stat().st_size / 1e6:.1f} MB, "
              f"{os.cpu_count()} CPUs")
        client = Client()
        t0 = time.perf_counter()
        await client.start_io(*SERVER, cwd=tmp)
        caps = types.ClientCapabilities(
            general=types.GeneralClientCapabilities(position_encodings=["utf-16"]),
            workspace=types.WorkspaceClientCapabilities(configuration=True))
        await client.initialize_async(types.InitializeParams(capabilities=caps))
        init_s = time.perf_counter() - t0
        client.initialized(types.InitializedParams())

        uri, first_s, core = "", float("inf"), float("inf")
        for r in range(args.repeat):
            core = min(core, core_seconds(path))
            if uri:
                client.text_document_did_close(types.DidCloseTextDocumentParams(
                    types.TextDocumentIdentifier(uri)))
            uri = (Path(tmp) / f"open{r}" / path.name).as_uri()
            t1 = time.perf_counter()
            client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(
                uri=uri, language_id="jsonl", version=1, text=text)))
            first_s = min(first_s, await client.diagnostics(uri, 1) - t1)
        if args.views:
            doc = types.TextDocumentIdentifier(uri)
            await client.text_document_code_lens_async(types.CodeLensParams(doc))
            await client.text_document_inlay_hint_async(types.InlayHintParams(
                doc, types.Range(types.Position(0, 0), types.Position(60, 0))))
            await client.text_document_document_symbol_async(types.DocumentSymbolParams(doc))
        else:
            await asyncio.sleep(2.0)  # let start-up work (tokenizer warm-up) settle

        latencies: dict[str, list[float]] = {"type": [], "paste": [], "delete": []}
        rng = random.Random(11)
        for version, (kind, _, rng_, new) in enumerate(edits(rng, lines, args.edits), start=2):
            sent = time.perf_counter()
            client.text_document_did_change(types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                [types.TextDocumentContentChangePartial(range=rng_, text=new)]))
            latencies[kind].append((await client.diagnostics(uri, version) - sent) * 1000)
            await asyncio.sleep(args.gap)

        await client.shutdown_async(None)
        client.exit(None)
        await client.stop()

    every = sorted(x for xs in latencies.values() for x in xs)
    p50 = statistics.median(every)
    p95 = every[min(len(every) - 1, round(0.95 * (len(every) - 1)))]
    print(f"initialize: {init_s * 1000:.0f} ms from spawn (target < {INIT_TARGET_S * 1000:.0f} ms, "
          f"ratio {init_s / INIT_TARGET_S:.2f})")
    print(f"first diagnostics: {first_s:.2f} s after didOpen; lint core alone {core:.2f} s "
          f"(best of {args.repeat}; ratio {first_s / core:.2f}, target <= {OPEN_SLACK:.2f})")
    if args.views:
        print("edits below ran while the server counted tokens for the code lens")
    for kind, xs in latencies.items():
        if xs:
            print(f"  {kind:<6} n={len(xs):<3} p50 {statistics.median(xs):6.1f} ms  max {max(xs):6.1f} ms")
    print(f"edit -> publishDiagnostics: n={len(every)} p50 {p50:.1f} ms  p95 {p95:.1f} ms  "
          f"max {every[-1]:.1f} ms (target p95 <= {EDIT_TARGET_MS:.0f} ms, "
          f"ratio {p95 / EDIT_TARGET_MS:.2f})")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--examples", type=int, default=100_000)
    ap.add_argument("--edits", type=int, default=60)
    ap.add_argument("--gap", type=float, default=0.25, help="seconds between edits")
    ap.add_argument("--repeat", type=int, default=2, help="open measurements (best is kept)")
    ap.add_argument("--views", action="store_true",
                    help="request lens/hints/outline after opening (background token count)")
    return asyncio.run(run(ap.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
