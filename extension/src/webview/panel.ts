/**
 * One webview panel per run: live loss / eval-loss curves from `events.jsonl` (read
 * incrementally as the job appends) and the evaluation report from `eval/report.json`.
 * Follows the theme through VS Code's CSS variables; scripts are limited by a nonce CSP.
 */
import * as fs from "node:fs/promises";
import * as vscode from "vscode";
import { RunEvent, describeProgress, lossSeries, parseEventChunk, summarize } from "../events";
import { normalizeReport } from "../report";
import { runViewHtml } from "./html";

const POLL_MS = 1000;
const MAX_READ = 8 * 1024 * 1024;

export class RunView implements vscode.Disposable {
  private static readonly open = new Map<string, RunView>();
  static readonly viewType = "tuneline.runView";

  private events: RunEvent[] = [];
  private offset = 0;
  private rest = "";
  private reportStamp = "";
  private report: ReturnType<typeof normalizeReport>;
  private timer: NodeJS.Timeout | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private refreshing = false;

  /** Show (or focus) the view of the run in `runDir`. */
  static show(extensionUri: vscode.Uri, runDir: vscode.Uri, runId: string, log: vscode.LogOutputChannel): RunView {
    const existing = RunView.open.get(runDir.toString());
    if (existing) {
      existing.panel.reveal();
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(RunView.viewType, `Run ${runId}`, vscode.ViewColumn.Active, {
      enableScripts: true,
      enableCommandUris: false,
      localResourceRoots: [vscode.Uri.joinPath(extensionUri, "extension", "media")],
    });
    const view = new RunView(panel, extensionUri, runDir, runId, log);
    RunView.open.set(runDir.toString(), view);
    return view;
  }

  private constructor(
    readonly panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    private readonly runDir: vscode.Uri,
    private readonly runId: string,
    private readonly log: vscode.LogOutputChannel,
  ) {
    const media = vscode.Uri.joinPath(extensionUri, "extension", "media");
    const webview = panel.webview;
    webview.html = runViewHtml({
      cspSource: webview.cspSource,
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(media, "report.js")).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(media, "report.css")).toString(),
      title: `Run ${runId}`,
    });
    const watcher = vscode.workspace.createFileSystemWatcher(
      new vscode.RelativePattern(runDir, "{events.jsonl,eval/report.json}"),
    );
    this.disposables.push(
      watcher,
      watcher.onDidChange(() => this.refresh()),
      watcher.onDidCreate(() => this.refresh()),
      webview.onDidReceiveMessage((msg: { type?: string }) => {
        if (msg?.type === "ready") {
          this.post();
        }
      }),
      panel.onDidChangeViewState(() => this.schedule()),
      panel.onDidDispose(() => this.dispose()),
    );
    this.schedule();
    void this.refresh();
  }

  /** Poll while visible and the run may still be writing (watchers can miss appends). */
  private schedule(): void {
    clearInterval(this.timer);
    this.timer = this.panel.visible ? setInterval(() => void this.refresh(), POLL_MS) : undefined;
  }

  private async refresh(): Promise<void> {
    if (this.refreshing) {
      return;
    }
    this.refreshing = true;
    try {
      const eventsChanged = await this.readEvents();
      const reportChanged = await this.readReport();
      if (eventsChanged || reportChanged) {
        this.post();
      }
    } catch (err) {
      this.log.debug(`run view ${this.runId}: ${String(err)}`);
    } finally {
      this.refreshing = false;
    }
  }

  private async readEvents(): Promise<boolean> {
    const file = vscode.Uri.joinPath(this.runDir, "events.jsonl").fsPath;
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(file, "r");
    } catch {
      return false;
    }
    try {
      const { size } = await handle.stat();
      if (size < this.offset) {
        // Rewritten from scratch: start over.
        this.events = [];
        this.offset = 0;
        this.rest = "";
      }
      if (size === this.offset) {
        return false;
      }
      const length = Math.min(size - this.offset, MAX_READ);
      const buf = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buf, 0, length, this.offset);
      this.offset += bytesRead;
      const chunk = parseEventChunk(this.rest + buf.subarray(0, bytesRead).toString("utf8"));
      this.rest = chunk.rest;
      this.events.push(...chunk.events);
      return chunk.events.length > 0;
    } finally {
      await handle.close();
    }
  }

  private async readReport(): Promise<boolean> {
    const file = vscode.Uri.joinPath(this.runDir, "eval", "report.json").fsPath;
    let stamp: string;
    try {
      const st = await fs.stat(file);
      stamp = `${st.mtimeMs}:${st.size}`;
    } catch {
      return false;
    }
    if (stamp === this.reportStamp) {
      return false;
    }
    this.reportStamp = stamp;
    try {
      this.report = normalizeReport(JSON.parse(await fs.readFile(file, "utf8")));
    } catch (err) {
      this.log.warn(`${file}: ${String(err)}`);
      this.report = undefined;
    }
    return true;
  }

  private post(): void {
    const summary = summarize(this.events);
    void this.panel.webview.postMessage({
      type: "update",
      runId: this.runId,
      summary,
      progressText: describeProgress(summary),
      series: lossSeries(this.events),
      report: this.report ?? null,
    });
  }

  dispose(): void {
    RunView.open.delete(this.runDir.toString());
    clearInterval(this.timer);
    for (const d of this.disposables.splice(0)) {
      d.dispose();
    }
    this.panel.dispose();
  }
}
