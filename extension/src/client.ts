/**
 * Starts, restarts and stops the language server (`python -m tuneline serve` over stdio).
 *
 * The interpreter is resolved and probed before spawning, so a wrong interpreter or a missing
 * `tuneline` package gives one clear error with buttons (Show Logs, Open Settings, Install)
 * instead of a crash loop. Crashes after a good start are restarted at most MAX_CRASHES times
 * in CRASH_WINDOW_MS, then reported once.
 */
import * as fs from "node:fs";
import * as vscode from "vscode";
import {
  CloseAction,
  ErrorAction,
  ExecuteCommandRequest,
  LanguageClient,
  LanguageClientOptions,
  RevealOutputChannelOn,
  ServerOptions,
  State,
  Trace,
  TransportKind,
} from "vscode-languageclient/node";
import { Secrets } from "./secrets";
import { RESTART_KEYS, TunelineSettings, traceForLogLevel } from "./settings";
import {
  Resolution,
  SOURCE_LABELS,
  candidates,
  describeFailure,
  probe,
  resolveInterpreter,
  venvPython,
} from "./python";
import { selectedInterpreter } from "./pythonExt";

export type ServerState = "stopped" | "starting" | "running" | "failed";

const MAX_CRASHES = 3;
const CRASH_WINDOW_MS = 3 * 60 * 1000;

/** A LanguageClient whose own error popups are logged instead: ServerManager shows one message. */
class TunelineLanguageClient extends LanguageClient {
  override error(message: string, data?: unknown): void {
    super.error(message, data, false);
  }
}

export interface StartFailure {
  message: string;
  resolution?: Resolution;
}

export class ServerManager implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private stateValue: ServerState = "stopped";
  private queue: Promise<void> = Promise.resolve();
  private crashes: number[] = [];
  private lastFailure: StartFailure | undefined;
  private readonly stateChanged = new vscode.EventEmitter<ServerState>();
  private readonly started = new vscode.EventEmitter<LanguageClient>();
  private readonly disposables: vscode.Disposable[] = [];
  /** The interpreter of the running server (for the private-venv installer and messages). */
  interpreter: Resolution | undefined;

  readonly onDidChangeState = this.stateChanged.event;
  /** Fires with the client once a server is running (register handlers on it). */
  readonly onDidStart = this.started.event;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly log: vscode.LogOutputChannel,
    private readonly secrets: Secrets,
    private readonly settings: () => TunelineSettings,
  ) {
    this.disposables.push(
      log.onDidChangeLogLevel(() => this.applyTrace()),
      vscode.workspace.onDidChangeConfiguration(() => this.applyTrace()),
    );
  }

  get state(): ServerState {
    return this.stateValue;
  }

  get failure(): StartFailure | undefined {
    return this.lastFailure;
  }

  get languageClient(): LanguageClient | undefined {
    return this.stateValue === "running" ? this.client : undefined;
  }

  get privateVenvDir(): string {
    return vscode.Uri.joinPath(this.context.globalStorageUri, "venv").fsPath;
  }

  /** A neutral working directory for the server (never the workspace: see python.ts probe). */
  private get serverCwd(): string {
    const dir = this.context.globalStorageUri.fsPath;
    fs.mkdirSync(dir, { recursive: true });
    return dir;
  }

  private setState(state: ServerState): void {
    this.stateValue = state;
    this.stateChanged.fire(state);
  }

  /** Serialise start/stop/restart so overlapping triggers never race. */
  private enqueue(job: () => Promise<void>): Promise<void> {
    this.queue = this.queue.then(job, job);
    return this.queue;
  }

  start(): Promise<void> {
    return this.enqueue(() => this.doStart());
  }

  restart(reason: string): Promise<void> {
    return this.enqueue(async () => {
      this.log.info(`Restarting the server: ${reason}`);
      this.crashes = [];
      await this.doStop();
      await this.doStart();
    });
  }

  stop(): Promise<void> {
    return this.enqueue(() => this.doStop());
  }

  /** True when a change to these settings requires a restart. */
  static affectsServer(e: vscode.ConfigurationChangeEvent): boolean {
    return RESTART_KEYS.some((k) => e.affectsConfiguration(k));
  }

  private async doStart(): Promise<void> {
    this.setState("starting");
    this.lastFailure = undefined;
    const settings = this.settings();
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    const privatePy = venvPython(this.privateVenvDir);
    const list = candidates({
      setting: settings.interpreter,
      pythonExtension: settings.interpreter ? undefined : await selectedInterpreter(folder),
      privateVenvPython: fs.existsSync(privatePy) ? privatePy : undefined,
      // An interpreter the Python extension found inside an untrusted workspace (its .venv) is
      // workspace-controlled code: never run it.
      untrustedFolders: vscode.workspace.isTrusted ? [] : (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath),
    });
    const env = await this.serverEnv(settings);
    const cwd = this.serverCwd;
    const resolution = await resolveInterpreter(list, (python) => probe(python, { env, cwd }));
    for (const t of resolution.tried) {
      this.log.info(`Interpreter ${t.candidate.python} (${SOURCE_LABELS[t.candidate.source]}): ${t.probe.status}` +
        (t.probe.tunelineVersion ? `, tuneline ${t.probe.tunelineVersion}` : "") + (t.probe.detail ? ` — ${t.probe.detail}` : ""));
    }
    this.interpreter = resolution;
    if (resolution.probe.status !== "ok") {
      this.fail({ message: describeFailure(resolution), resolution });
      return;
    }
    const python = resolution.probe.executable ?? resolution.chosen.python;
    const client = this.createClient(python, env, cwd);
    this.client = client;
    try {
      this.log.info(`Starting: ${python} -m tuneline serve (tuneline ${resolution.probe.tunelineVersion})`);
      await client.start();
    } catch (err) {
      this.client = undefined;
      await client.dispose().catch(() => undefined);
      this.fail({ message: `The Tuneline server exited during startup: ${errorText(err)}`, resolution });
      return;
    }
    this.setState("running");
    this.applyTrace();
    this.started.fire(client);
  }

  private async doStop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) {
      try {
        if (client.state !== State.Stopped) {
          await client.stop(4000);
        }
      } catch (err) {
        this.log.warn(`Stopping the server: ${errorText(err)}`);
      }
      await client.dispose().catch(() => undefined);
    }
    this.setState("stopped");
  }

  private async serverEnv(settings: TunelineSettings): Promise<NodeJS.ProcessEnv> {
    const trusted = vscode.workspace.isTrusted;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PYTHONUNBUFFERED: "1",
      PYTHONIOENCODING: "utf-8",
      TUNELINE_CLIENT: "vscode",
      TUNELINE_TRUSTED: trusted ? "1" : "0",
      TUNELINE_LOG_LEVEL: vscode.LogLevel[this.log.logLevel] ?? "Info",
    };
    if (trusted) {
      Object.assign(env, await this.secrets.environment());
      if (settings.openaiBaseUrl) {
        env.OPENAI_BASE_URL = settings.openaiBaseUrl;
      }
    }
    return env;
  }

  private createClient(python: string, env: NodeJS.ProcessEnv, cwd: string): LanguageClient {
    const settings = this.settings();
    const serverOptions: ServerOptions = {
      command: python,
      args: ["-m", "tuneline", "serve"],
      transport: TransportKind.stdio,
      options: { env, cwd },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [
        { scheme: "file", language: "jsonl" },
        { scheme: "untitled", language: "jsonl" },
      ],
      outputChannel: this.log,
      traceOutputChannel: this.log,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      initializationOptions: {
        trusted: vscode.workspace.isTrusted,
        runsDirectory: settings.runsDirectory,
        client: { name: "tuneline-vscode", version: String(this.context.extension.packageJSON.version ?? "") },
      },
      initializationFailedHandler: (error) => {
        this.log.error(`Server initialization failed: ${errorText(error)}`);
        return false;
      },
      errorHandler: {
        error: (_error, _message, count) =>
          (count ?? 0) <= 3 ? { action: ErrorAction.Continue, handled: true } : { action: ErrorAction.Shutdown, handled: true },
        closed: () => this.onClosed(),
      },
      synchronize: {
        configurationSection: "tuneline",
        fileEvents: [
          vscode.workspace.createFileSystemWatcher("**/tuneline.toml"),
          vscode.workspace.createFileSystemWatcher("**/pyproject.toml"),
        ],
      },
      markdown: { isTrusted: false, supportHtml: false },
    };
    return new TunelineLanguageClient("tuneline", "Tuneline", serverOptions, clientOptions);
  }

  /** Connection closed: restart a server that ran, a few times; never loop on startup crashes. */
  private onClosed(): { action: CloseAction; handled: boolean } {
    if (this.stateValue !== "running") {
      return { action: CloseAction.DoNotRestart, handled: true };
    }
    const now = Date.now();
    this.crashes = this.crashes.filter((t) => now - t < CRASH_WINDOW_MS);
    this.crashes.push(now);
    if (this.crashes.length > MAX_CRASHES) {
      this.client = undefined;
      this.fail({
        message: `The Tuneline server crashed ${this.crashes.length} times in ${CRASH_WINDOW_MS / 60000} minutes and was not restarted.`,
        resolution: this.interpreter,
      });
      return { action: CloseAction.DoNotRestart, handled: true };
    }
    this.log.warn(`The server exited; restarting (${this.crashes.length}/${MAX_CRASHES}).`);
    return { action: CloseAction.Restart, handled: true };
  }

  /** Record the failure and show it once, with the buttons that can fix it. */
  private fail(failure: StartFailure): void {
    this.lastFailure = failure;
    this.log.error(failure.message);
    this.setState("failed");
    const actions: string[] = [];
    const res = failure.resolution;
    if (res?.chosen.source === "setting") {
      actions.push("Open Settings");
    } else if (res?.probe.status === "missing-tuneline") {
      actions.push("Install Tuneline");
    }
    actions.push("Show Logs");
    void vscode.window.showErrorMessage(`Tuneline: the language server could not start. ${failure.message}`, ...actions).then((pick) => {
      if (pick === "Show Logs") {
        this.log.show(true);
      } else if (pick === "Open Settings") {
        void vscode.commands.executeCommand("workbench.action.openSettings", "tuneline.interpreter");
      } else if (pick === "Install Tuneline") {
        void vscode.commands.executeCommand("tuneline.cmd.installServer");
      }
    });
  }

  /** LSP trace follows the log channel's level (Trace → verbose, Debug → messages). */
  private applyTrace(): void {
    const client = this.languageClient;
    if (!client) {
      return;
    }
    const trace = Trace.fromString(traceForLogLevel(this.log.logLevel));
    client.setTrace(trace).catch((err) => this.log.warn(`setTrace: ${errorText(err)}`));
  }

  /**
   * Run a server command (`workspace/executeCommand`) with an optional client-created work-done
   * token and cancellation. Throws when the server is not running.
   */
  async executeCommand<T>(
    command: string,
    argument: unknown,
    opts: { token?: vscode.CancellationToken; workDoneToken?: string } = {},
  ): Promise<T> {
    const client = this.languageClient;
    if (!client) {
      throw new ServerNotRunning(this.lastFailure?.message);
    }
    const params = { command, arguments: [argument], workDoneToken: opts.workDoneToken };
    return (await client.sendRequest(ExecuteCommandRequest.type, params, opts.token)) as T;
  }

  dispose(): void {
    for (const d of this.disposables) {
      d.dispose();
    }
    this.stateChanged.dispose();
    this.started.dispose();
  }
}

export class ServerNotRunning extends Error {
  constructor(reason?: string) {
    super(`The Tuneline server is not running.${reason ? " " + reason : ""}`);
  }
}

export function errorText(err: unknown): string {
  if (err instanceof Error) {
    return err.message;
  }
  if (err && typeof err === "object" && "message" in err) {
    return String((err as { message: unknown }).message);
  }
  return String(err);
}
