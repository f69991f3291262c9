/**
 * Runs in the workspace: `<folder>/<tuneline.runsDirectory>/<id>/events.jsonl`. Read from the
 * files (so runs started from a terminal, or before a restart, show up too) and merged with the
 * server's `tuneline.listRuns` when it answers. Plus the quick pick that the Show Runs, Cancel
 * Run and Open Run Report commands share.
 */
import * as fs from "node:fs/promises";
import * as vscode from "vscode";
import { RunStateFile, RunStatus, RunSummary, applyState, describeProgress, parseEventChunk, summarize } from "./events";

export interface RunInfo {
  id: string;
  dir: vscode.Uri;
  folder: vscode.WorkspaceFolder;
  summary: RunSummary;
  /** Last modification of events.jsonl (ms). */
  mtime: number;
}

const MAX_EVENTS_BYTES = 16 * 1024 * 1024;

/** Runs of every workspace folder, newest first. */
export async function listRuns(runsDirectory: string): Promise<RunInfo[]> {
  const out: RunInfo[] = [];
  for (const folder of vscode.workspace.workspaceFolders ?? []) {
    const root = vscode.Uri.joinPath(folder.uri, runsDirectory);
    let entries: [string, vscode.FileType][];
    try {
      entries = await vscode.workspace.fs.readDirectory(root);
    } catch {
      continue;
    }
    for (const [name, type] of entries) {
      if (type !== vscode.FileType.Directory) {
        continue;
      }
      const info = await readRun(folder, vscode.Uri.joinPath(root, name), name);
      if (info) {
        out.push(info);
      }
    }
  }
  return out.sort((a, b) => b.mtime - a.mtime);
}

/** Whether a process exists (signal 0 probes without signalling). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function readState(dir: vscode.Uri): Promise<RunStateFile | undefined> {
  try {
    const value: unknown = JSON.parse(await fs.readFile(vscode.Uri.joinPath(dir, "state.json").fsPath, "utf8"));
    return value && typeof value === "object" ? (value as RunStateFile) : undefined;
  } catch {
    return undefined;
  }
}

/** The tail (at most MAX_EVENTS_BYTES) of events.jsonl, and its mtime; undefined when absent. */
async function readEventsTail(file: string): Promise<{ text: string; mtime: number } | undefined> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, "r");
  } catch {
    return undefined;
  }
  try {
    const st = await handle.stat();
    const start = Math.max(0, st.size - MAX_EVENTS_BYTES);
    const buf = Buffer.alloc(st.size - start);
    await handle.read(buf, 0, buf.length, start);
    let text = buf.toString("utf8");
    if (start > 0) {
      text = text.slice(text.indexOf("\n") + 1);
    }
    return { text, mtime: st.mtimeMs };
  } finally {
    await handle.close();
  }
}

/** One run folder (events.jsonl and/or state.json); undefined when it is not a run. */
export async function readRun(folder: vscode.WorkspaceFolder, dir: vscode.Uri, id: string): Promise<RunInfo | undefined> {
  const state = await readState(dir);
  const tail = await readEventsTail(vscode.Uri.joinPath(dir, "events.jsonl").fsPath);
  if (!tail && !state) {
    return undefined;
  }
  const { events } = parseEventChunk((tail?.text ?? "") + "\n");
  return { id, dir, folder, summary: applyState(summarize(events), state, pidAlive), mtime: tail?.mtime ?? 0 };
}

const ICONS: Record<RunStatus, string> = {
  running: "$(sync~spin)",
  completed: "$(pass)",
  failed: "$(error)",
  cancelled: "$(circle-slash)",
  interrupted: "$(debug-pause)",
  pending: "$(clock)",
};

export interface RunPick extends vscode.QuickPickItem {
  run: RunInfo;
}

export function runPickItems(runs: readonly RunInfo[]): RunPick[] {
  return runs.map((run) => {
    const s = run.summary;
    const what = [s.kind, s.model, s.method].filter(Boolean).join(" · ");
    return {
      label: `${ICONS[s.status]} ${run.id}`,
      description: [s.status, what].filter(Boolean).join(" — "),
      detail: s.error ?? (describeProgress(s) || undefined),
      run,
    };
  });
}

/** Pick a run (optionally only some statuses); undefined when cancelled or none exist. */
export async function pickRun(
  runsDirectory: string,
  opts: { title: string; statuses?: RunStatus[]; emptyMessage: string },
): Promise<RunInfo | undefined> {
  const runs = (await listRuns(runsDirectory)).filter((r) => !opts.statuses || opts.statuses.includes(r.summary.status));
  if (runs.length === 0) {
    void vscode.window.showInformationMessage(`Tuneline: ${opts.emptyMessage}`);
    return undefined;
  }
  const pick = await vscode.window.showQuickPick(runPickItems(runs), { title: opts.title, matchOnDescription: true });
  return pick?.run;
}
