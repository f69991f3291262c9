/**
 * Entry point: wires the modules together and nothing else. See client.ts (server lifecycle),
 * commands.ts (palette), progress.ts ($/progress), languageStatus.ts, runs.ts and webview/.
 */
import * as vscode from "vscode";
import { ServerManager } from "./client";
import { registerCommands } from "./commands";
import { DatasetStatus } from "./languageStatus";
import { ProgressUi } from "./progress";
import { onInterpreterChanged } from "./pythonExt";
import { Secrets } from "./secrets";
import { TunelineSettings, parseSettings } from "./settings";

let server: ServerManager | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel("Tuneline", { log: true });
  const settings = (): TunelineSettings => parseSettings(vscode.workspace.getConfiguration("tuneline"));
  const secrets = new Secrets(context.secrets);
  const progress = new ProgressUi(() => settings().progressNotifications);
  server = new ServerManager(context, log, secrets, settings);
  const status = new DatasetStatus(server, () => settings().languageStatus);
  const srv = server;
  let progressHook: vscode.Disposable | undefined;

  context.subscriptions.push(
    log,
    secrets,
    progress,
    srv,
    status,
    srv.onDidStart((client) => {
      progressHook?.dispose();
      progressHook = progress.attach(client);
    }),
    srv.onDidChangeState((state) => {
      if (state !== "running") {
        progress.reset(); // a stopped server ends no progress: clear what it left
      }
    }),
    { dispose: () => progressHook?.dispose() },
    ...registerCommands({ context, server: srv, progress, secrets, log, settings }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (ServerManager.affectsServer(e)) {
        void srv.restart("settings changed");
      }
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => void srv.restart("workspace trusted")),
    secrets.onDidChange(() => {
      if (progress.active > 0) {
        void vscode.window
          .showInformationMessage("Tuneline: the new API key is used after a server restart (a job is running now).", "Restart Now")
          .then((p) => p && srv.restart("API key changed"));
      } else {
        void srv.restart("API key changed");
      }
    }),
  );
  void onInterpreterChanged(() => {
    if (!settings().interpreter) {
      void srv.restart("Python interpreter changed");
    }
  }).then((d) => context.subscriptions.push(d));
  log.info(`Tuneline ${context.extension.packageJSON.version} activating (workspace ${vscode.workspace.isTrusted ? "trusted" : "untrusted: lint only"})`);
  void srv.start();
}

export async function deactivate(): Promise<void> {
  await server?.stop();
  server = undefined;
}
