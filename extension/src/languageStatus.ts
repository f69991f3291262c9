/**
 * The language status item of `jsonl` files ({} in the status bar): the file's record format,
 * example count, errors and tokens from the server's `tuneline.datasetStats`, or the server's
 * state when it is not running. Refreshed when the active file or its diagnostics change.
 */
import * as vscode from "vscode";
import { ServerManager } from "./client";
import { formatCount } from "./events";

/** The fields of the server's dataset summary this item shows (Summary.to_json()). */
export interface DatasetSummary {
  format?: string | null;
  examples?: number;
  errors?: number;
  warnings?: number;
  total_tokens?: number | null;
  model?: string;
}

/** Accept the summary itself, `{summary}`, or `{<uri or path>: summary}`. */
export function pickSummary(result: unknown, uri: vscode.Uri): DatasetSummary | undefined {
  if (!result || typeof result !== "object") {
    return undefined;
  }
  const r = result as Record<string, unknown>;
  if ("examples" in r || "format" in r) {
    return r as DatasetSummary;
  }
  if (r.summary && typeof r.summary === "object") {
    return r.summary as DatasetSummary;
  }
  const hit = r[uri.toString()] ?? r[uri.fsPath];
  return hit && typeof hit === "object" ? (hit as DatasetSummary) : undefined;
}

export class DatasetStatus implements vscode.Disposable {
  private readonly item: vscode.LanguageStatusItem;
  private readonly disposables: vscode.Disposable[] = [];
  private timer: NodeJS.Timeout | undefined;
  private generation = 0;

  constructor(private readonly server: ServerManager, private readonly enabled: () => boolean) {
    this.item = vscode.languages.createLanguageStatusItem("tuneline.dataset", { language: "jsonl" });
    this.item.name = "Tuneline dataset";
    this.item.text = "Tuneline";
    this.disposables.push(
      vscode.window.onDidChangeActiveTextEditor(() => this.schedule(0)),
      vscode.languages.onDidChangeDiagnostics((e) => {
        const active = vscode.window.activeTextEditor?.document.uri.toString();
        if (active && e.uris.some((u) => u.toString() === active)) {
          this.schedule(300);
        }
      }),
      server.onDidChangeState(() => this.schedule(0)),
    );
    this.schedule(0);
  }

  private schedule(delay: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.refresh(), delay);
  }

  private async refresh(): Promise<void> {
    const gen = ++this.generation;
    const doc = vscode.window.activeTextEditor?.document;
    if (this.server.state !== "running") {
      const failed = this.server.state === "failed";
      this.item.text = failed ? "$(error) Tuneline server not running" : "$(loading~spin) Tuneline starting";
      this.item.detail = failed ? this.server.failure?.message : undefined;
      this.item.severity = failed ? vscode.LanguageStatusSeverity.Error : vscode.LanguageStatusSeverity.Information;
      this.item.command = failed ? { title: "Show Logs", command: "tuneline.cmd.showLogs" } : undefined;
      return;
    }
    if (!doc || doc.languageId !== "jsonl" || !this.enabled()) {
      this.item.text = "Tuneline";
      this.item.detail = undefined;
      this.item.severity = vscode.LanguageStatusSeverity.Information;
      return;
    }
    const diags = vscode.languages.getDiagnostics(doc.uri);
    let summary: DatasetSummary | undefined;
    try {
      summary = pickSummary(await this.server.executeCommand("tuneline.datasetStats", { uri: doc.uri.toString() }), doc.uri);
    } catch {
      summary = undefined;
    }
    if (gen !== this.generation) {
      return;
    }
    const errors = summary?.errors ?? diags.filter((d) => d.severity === vscode.DiagnosticSeverity.Error).length;
    const parts = [summary?.format ?? undefined, summary?.examples !== undefined ? `${summary.examples} examples` : undefined];
    this.item.text = `${errors ? "$(error)" : "$(check)"} ${parts.filter(Boolean).join(" · ") || "Tuneline"}`;
    const detail = [
      `${errors} error${errors === 1 ? "" : "s"}`,
      summary?.warnings !== undefined ? `${summary.warnings} warnings` : undefined,
      typeof summary?.total_tokens === "number" ? `${formatCount(summary.total_tokens)} tokens` : undefined,
    ];
    this.item.detail = detail.filter(Boolean).join(" · ");
    this.item.severity = errors ? vscode.LanguageStatusSeverity.Warning : vscode.LanguageStatusSeverity.Information;
    this.item.command = { title: "Stats", command: "tuneline.cmd.showStats" };
  }

  dispose(): void {
    clearTimeout(this.timer);
    for (const d of this.disposables) {
      d.dispose();
    }
    this.item.dispose();
  }
}
