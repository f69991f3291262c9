/**
 * The palette commands. Each maps to a server `workspace/executeCommand` (or a client-only
 * action) and logs the equivalent `tuneline` CLI line. Commands that run code, spend money or
 * call a network model refuse, with an explanation, in an untrusted workspace.
 *
 * VS Code command ids are `tuneline.cmd.*`: the server's own command names (`tuneline.train`,
 * ...) are registered by vscode-languageclient and must not collide.
 */
import * as path from "node:path";
import * as vscode from "vscode";
import {
  ServerCall,
  buildAugmentCall,
  buildCancelCall,
  buildEvaluateCall,
  buildLintWorkspaceCall,
  buildStatsCall,
  buildTrainCall,
  displayCommandLine,
} from "./args";
import { ServerManager, errorText } from "./client";
import { installServer } from "./install";
import { statsMarkdown } from "./markdown";
import { ProgressUi } from "./progress";
import { RunInfo, listRuns, pickRun, readRun } from "./runs";
import { Secrets } from "./secrets";
import { TunelineSettings } from "./settings";
import { RunView } from "./webview/panel";
import { Memory, evaluateWizard, trainWizard } from "./wizard";

export interface CommandDeps {
  context: vscode.ExtensionContext;
  server: ServerManager;
  progress: ProgressUi;
  secrets: Secrets;
  log: vscode.LogOutputChannel;
  settings: () => TunelineSettings;
}

/** Explain and refuse when the workspace is not trusted. */
export function requireTrust(what: string): boolean {
  if (vscode.workspace.isTrusted) {
    return true;
  }
  void vscode.window
    .showWarningMessage(
      `Tuneline: ${what} is disabled in Restricted Mode, because it runs code, can spend money or calls a network model. Trust this workspace to enable it; linting keeps working.`,
      "Manage Workspace Trust",
    )
    .then((p) => p && vscode.commands.executeCommand("workbench.trust.manage"));
  return false;
}

export function registerCommands(deps: CommandDeps): vscode.Disposable[] {
  const { context, server, progress, secrets, log, settings } = deps;
  const memory = new Memory(context.workspaceState);

  /** Run a server command with cancellable progress; errors are shown once, with Show Logs. */
  async function call<T>(c: ServerCall, title: string): Promise<T | undefined> {
    log.info(`${title} — same in a terminal: tuneline ${displayCommandLine(c.cli)}`);
    const client = server.languageClient;
    if (!client) {
      void vscode.window.showErrorMessage(`Tuneline: ${title}: the language server is not running.`, "Show Logs", "Restart Server")
        .then((p) => (p === "Show Logs" ? log.show(true) : p && server.restart("requested")));
      return undefined;
    }
    const cts = new vscode.CancellationTokenSource();
    const token = ProgressUi.newToken();
    const tracking = progress.trackRequest(client, token, title, () => cts.cancel());
    try {
      return await server.executeCommand<T>(c.command, c.argument, { token: cts.token, workDoneToken: token });
    } catch (err) {
      if (cts.token.isCancellationRequested) {
        log.info(`${title}: cancelled`);
        void vscode.window.setStatusBarMessage(`Tuneline: ${title} cancelled`, 5000);
      } else {
        log.error(`${title}: ${errorText(err)}`);
        void vscode.window.showErrorMessage(`Tuneline: ${title} failed: ${errorText(err)}`, "Show Logs").then((p) => p && log.show(true));
      }
      return undefined;
    } finally {
      tracking.dispose();
      cts.dispose();
    }
  }

  function activeJsonl(): vscode.TextEditor | undefined {
    const editor = vscode.window.activeTextEditor;
    if (!editor || editor.document.languageId !== "jsonl") {
      void vscode.window.showInformationMessage("Tuneline: open a .jsonl dataset first.");
      return undefined;
    }
    return editor;
  }

  function openRun(run: { id: string; dir: vscode.Uri }): void {
    RunView.show(context.extensionUri, run.dir, run.id, log);
  }

  /** Find the run folder a server answer names (run_dir / dir / path / run_id / id). */
  async function runFromResult(result: unknown, workspaceFolder?: string): Promise<RunInfo | { id: string; dir: vscode.Uri } | undefined> {
    if (!result || typeof result !== "object") {
      return undefined;
    }
    const r = result as Record<string, unknown>;
    const dir = [r.run_dir, r.dir, r.path].find((v): v is string => typeof v === "string");
    const id = [r.run_id, r.id].find((v): v is string => typeof v === "string");
    if (dir) {
      return { id: id ?? path.basename(dir), dir: vscode.Uri.file(dir) };
    }
    const folder = workspaceFolder ? vscode.workspace.getWorkspaceFolder(vscode.Uri.file(workspaceFolder)) : vscode.workspace.workspaceFolders?.[0];
    if (id && folder) {
      const runDir = vscode.Uri.joinPath(folder.uri, settings().runsDirectory, id);
      return (await readRun(folder, runDir, id)) ?? { id, dir: runDir };
    }
    return undefined;
  }

  const handlers: Record<string, (...args: unknown[]) => unknown> = {
    "tuneline.cmd.lintWorkspace": async () => {
      const folders = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
      const result = await call<Record<string, unknown>>(buildLintWorkspaceCall(folders), "Lint Workspace");
      if (result === undefined) {
        return;
      }
      const n = (k: string) => (typeof result?.[k] === "number" ? (result[k] as number) : undefined);
      const files = n("files") ?? 0;
      const counts = `${files} file${files === 1 ? "" : "s"}: ${n("errors") ?? 0} errors, ${n("warnings") ?? 0} warnings`;
      if (result.cancelled === true) {
        void vscode.window.showInformationMessage(`Tuneline: Lint Workspace cancelled after ${counts}.`);
        return;
      }
      void vscode.window.showInformationMessage(`Tuneline: linted ${counts}.`);
      await vscode.commands.executeCommand("workbench.actions.view.problems");
    },

    "tuneline.cmd.showStats": async () => {
      const editor = activeJsonl();
      if (!editor) {
        return;
      }
      const doc = editor.document;
      const c = buildStatsCall(doc.uri.fsPath, doc.uri.toString());
      const result = await call<Record<string, unknown>>(c, "Dataset Stats");
      if (!result) {
        return;
      }
      const summary = (typeof result.summary === "object" && result.summary ? result.summary : result) as Record<string, unknown>;
      const md = statsMarkdown(`Dataset stats: ${path.basename(doc.uri.fsPath)}`, summary, `tuneline ${displayCommandLine(c.cli)}`);
      const shown = await vscode.workspace.openTextDocument({ language: "markdown", content: md });
      await vscode.window.showTextDocument(shown, { viewColumn: vscode.ViewColumn.Beside, preview: true });
    },

    "tuneline.cmd.augmentExample": async () => {
      if (!requireTrust("Augment This Example")) {
        return;
      }
      const editor = activeJsonl();
      if (!editor) {
        return;
      }
      const counts = ["1", "3", "5", "10"];
      const last = memory.get("augmentCount") ?? "3";
      const count = await vscode.window.showQuickPick([last, ...counts.filter((c) => c !== last)], {
        title: "Tuneline: Augment This Example",
        placeHolder: "How many variations?",
      });
      if (!count) {
        return;
      }
      await memory.set("augmentCount", count);
      const doc = editor.document;
      const line = editor.selection.active.line;
      const result = await call<Record<string, unknown>>(buildAugmentCall(doc.uri.fsPath, doc.uri.toString(), line, Number(count)), "Augment This Example");
      await applyAugmentResult(editor, line, result, server);
    },

    "tuneline.cmd.train": async () => {
      if (!requireTrust("Train…")) {
        return;
      }
      const choices = await trainWizard(memory, settings());
      if (!choices) {
        return;
      }
      if (choices.target.kind === "openai" && !(await secrets.has("openai"))) {
        const p = await vscode.window.showWarningMessage("Tuneline: an OpenAI fine-tuning job needs an API key.", "Set API Key");
        if (p) {
          await secrets.promptAndStore();
        }
        return;
      }
      let c: ServerCall;
      try {
        c = buildTrainCall(choices);
      } catch (err) {
        void vscode.window.showErrorMessage(`Tuneline: ${errorText(err)}`);
        return;
      }
      const result = await call(c, `Train ${choices.model}`);
      const run = await runFromResult(result, choices.workspaceFolder);
      if (run) {
        openRun(run);
      }
    },

    "tuneline.cmd.evaluate": async () => {
      if (!requireTrust("Evaluate…")) {
        return;
      }
      const choices = await evaluateWizard(memory, settings());
      if (!choices) {
        return;
      }
      let c: ServerCall;
      try {
        c = buildEvaluateCall(choices);
      } catch (err) {
        void vscode.window.showErrorMessage(`Tuneline: ${errorText(err)}`);
        return;
      }
      const result = await call(c, "Evaluate");
      const run = await runFromResult(result, choices.workspaceFolder);
      if (run) {
        openRun(run);
      }
    },

    "tuneline.cmd.showRuns": async () => {
      const run = await pickRun(settings().runsDirectory, { title: "Tuneline: Runs", emptyMessage: "no runs in this workspace yet." });
      if (!run) {
        return;
      }
      const actions = ["$(graph-line) Open Report", "$(folder-opened) Reveal in Explorer"];
      if (run.summary.status === "running") {
        actions.splice(1, 0, "$(debug-stop) Cancel Run");
      }
      const action = await vscode.window.showQuickPick(actions, { title: `Run ${run.id}` });
      if (action?.endsWith("Open Report")) {
        openRun(run);
      } else if (action?.endsWith("Cancel Run")) {
        await cancelRun(run.id);
      } else if (action?.endsWith("Reveal in Explorer")) {
        await vscode.commands.executeCommand("revealInExplorer", run.dir);
      }
    },

    "tuneline.cmd.cancelRun": async () => {
      const running = (await listRuns(settings().runsDirectory)).filter((r) => r.summary.status === "running");
      if (running.length === 0) {
        if (progress.active > 0) {
          const n = progress.cancelAll();
          void vscode.window.setStatusBarMessage(`Tuneline: cancelling ${n} job${n === 1 ? "" : "s"}`, 5000);
        } else {
          void vscode.window.showInformationMessage("Tuneline: no run is running.");
        }
        return;
      }
      const run = running.length === 1 ? running[0] : await pickRun(settings().runsDirectory, { title: "Tuneline: Cancel Run", statuses: ["running"], emptyMessage: "no run is running." });
      if (run) {
        await cancelRun(run.id);
      }
    },

    "tuneline.cmd.openRunReport": async (arg?: unknown) => {
      if (arg instanceof vscode.Uri) {
        openRun({ id: path.basename(arg.fsPath), dir: arg });
        return;
      }
      const run = await pickRun(settings().runsDirectory, { title: "Tuneline: Open Run Report", emptyMessage: "no runs in this workspace yet." });
      if (run) {
        openRun(run);
      }
    },

    "tuneline.cmd.setApiKey": () => secrets.promptAndStore(),
    "tuneline.cmd.restartServer": () => server.restart("Restart Server command"),
    "tuneline.cmd.showLogs": () => log.show(),
    "tuneline.cmd.installServer": () => installServer(context, server, log),
  };

  async function cancelRun(runId: string): Promise<void> {
    const result = await call<unknown>(buildCancelCall(runId), `Cancel run ${runId}`);
    if (result !== undefined) {
      void vscode.window.setStatusBarMessage(`Tuneline: cancelling run ${runId}`, 5000);
    }
  }

  return Object.entries(handlers).map(([id, fn]) => vscode.commands.registerCommand(id, fn));
}

/** Apply what `tuneline.augment` returned: a WorkspaceEdit, or new JSONL lines after the example. */
async function applyAugmentResult(editor: vscode.TextEditor, line: number, result: unknown, server: ServerManager): Promise<void> {
  if (!result || typeof result !== "object") {
    return;
  }
  const r = result as Record<string, unknown>;
  const client = server.languageClient;
  if (r.edit && client) {
    const edit = await client.protocol2CodeConverter.asWorkspaceEdit(r.edit as Parameters<typeof client.protocol2CodeConverter.asWorkspaceEdit>[0]);
    if (!edit) {
      return;
    }
    await vscode.workspace.applyEdit(edit);
    return;
  }
  const lines = Array.isArray(r.lines) ? r.lines.filter((l): l is string => typeof l === "string") : [];
  if (lines.length) {
    const at = editor.document.lineAt(line).range.end;
    await editor.edit((b) => b.insert(at, "\n" + lines.join("\n")));
    void vscode.window.setStatusBarMessage(`Tuneline: added ${lines.length} example${lines.length === 1 ? "" : "s"}`, 5000);
  } else if (typeof r.message === "string") {
    void vscode.window.showInformationMessage(`Tuneline: ${r.message}`);
  } else if (typeof r.run_id === "string") {
    const output = [r.output, (r.final as Record<string, unknown> | undefined)?.output].find((v): v is string => typeof v === "string");
    const open = output ? "Open Result" : undefined;
    const pick = await vscode.window.showInformationMessage(`Tuneline: augmentation ${String(r.status ?? "finished")} (run ${r.run_id}).`, ...(open ? [open] : []));
    if (pick && output) {
      await vscode.window.showTextDocument(vscode.Uri.file(output), { viewColumn: vscode.ViewColumn.Beside });
    }
  }
}
