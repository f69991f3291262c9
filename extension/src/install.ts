/**
 * "Install Tuneline into a Private Environment": a venv under the extension's global storage,
 * with the tuneline wheel bundled in the .vsix (core dependencies; the `train` extra only when
 * asked, since torch is large). The server restarts on it afterwards.
 */
import * as vscode from "vscode";
import { ServerManager, errorText } from "./client";
import { findBundledWheel, installPrivateEnv } from "./python";

export async function installServer(
  context: vscode.ExtensionContext,
  server: ServerManager,
  log: vscode.LogOutputChannel,
): Promise<void> {
  const version = String(context.extension.packageJSON.version ?? "");
  const wheel = findBundledWheel(context.extensionPath, version);
  if (!wheel) {
    void vscode.window.showErrorMessage("Tuneline: this build of the extension has no bundled tuneline wheel. Install it with `pip install tuneline` and set `tuneline.interpreter`.", "Show Logs")
      .then((p) => p && log.show(true));
    return;
  }
  const pick = await vscode.window.showQuickPick(
    [
      { label: "Core", description: "lint, language server, OpenAI jobs", detail: "A few small packages", training: false },
      { label: "Core + local training", description: "adds torch, transformers, peft, accelerate", detail: "Large download (about 1–3 GB)", training: true },
    ],
    { title: "Tuneline: install into a private environment", placeHolder: "What should be installed?" },
  );
  if (!pick) {
    return;
  }
  const res = server.interpreter;
  const base = res?.probe.status === "missing-tuneline" ? (res.probe.executable ?? res.chosen.python) : process.platform === "win32" ? "python" : "python3";
  const ok = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: "Tuneline: installing into a private environment", cancellable: true },
    async (progress, token) => {
      const abort = new AbortController();
      token.onCancellationRequested(() => abort.abort());
      progress.report({ message: `${pick.label} (see Show Logs for pip's output)` });
      try {
        const python = await installPrivateEnv({ basePython: base, venvDir: server.privateVenvDir, wheel, withTraining: pick.training, log, signal: abort.signal });
        log.info(`Installed tuneline into ${python}`);
        return true;
      } catch (err) {
        log.error(`Install failed: ${errorText(err)}`);
        if (!token.isCancellationRequested) {
          void vscode.window.showErrorMessage(`Tuneline: installing failed: ${errorText(err)}`, "Show Logs").then((p) => p && log.show(true));
        }
        return false;
      }
    },
  );
  if (ok) {
    void vscode.window.showInformationMessage("Tuneline: installed into a private environment. Starting the server…");
    await server.restart("installed into the private environment");
  }
}
