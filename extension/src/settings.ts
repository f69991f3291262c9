/**
 * Tuneline's settings, parsed and validated into one typed object.
 *
 * Pure: no `vscode` import at runtime, so the node test runner can exercise it. Callers pass
 * anything with a `get(key)` (a `vscode.WorkspaceConfiguration` scoped to `tuneline`).
 */

/** The subset of `WorkspaceConfiguration` this module reads. */
export interface ConfigSource {
  get<T>(key: string): T | undefined;
}

export interface TunelineSettings {
  /** Absolute or PATH-relative interpreter; undefined when the setting is empty. */
  interpreter: string | undefined;
  /** Folder holding runs, relative to the workspace folder (never absolute, never `..`). */
  runsDirectory: string;
  models: string[];
  sshHosts: string[];
  openaiBaseUrl: string | undefined;
  progressNotifications: boolean;
  languageStatus: boolean;
}

export const DEFAULT_MODELS: readonly string[] = [
  "Qwen/Qwen2.5-0.5B-Instruct",
  "HuggingFaceTB/SmolLM2-360M-Instruct",
  "meta-llama/Llama-3.2-1B-Instruct",
  "gpt-4o-mini-2024-07-18",
];

/** Settings whose change means the server must be restarted. */
export const RESTART_KEYS: readonly string[] = ["tuneline.interpreter", "tuneline.openai.baseUrl", "tuneline.runsDirectory"];

function str(value: unknown): string | undefined {
  if (typeof value !== "string") {
    return undefined;
  }
  const trimmed = value.trim();
  return trimmed === "" ? undefined : trimmed;
}

function strList(value: unknown, fallback: readonly string[]): string[] {
  if (!Array.isArray(value)) {
    return [...fallback];
  }
  const seen = new Set<string>();
  for (const item of value) {
    const s = str(item);
    if (s !== undefined) {
      seen.add(s);
    }
  }
  return [...seen];
}

function bool(value: unknown, fallback: boolean): boolean {
  return typeof value === "boolean" ? value : fallback;
}

/**
 * Expand `~` and `${env:NAME}` / `${userHome}` in an interpreter path. `${workspaceFolder}` is
 * deliberately not supported: the setting is machine-scoped and must not depend on a workspace.
 */
export function expandPath(value: string, env: NodeJS.ProcessEnv, home: string): string {
  let out = value.replace(/\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g, (_m, name: string) => env[name] ?? "");
  out = out.replace(/\$\{userHome\}/g, home);
  if (out === "~" || out.startsWith("~/")) {
    out = home + out.slice(1);
  }
  return out;
}

/** A safe relative runs directory: no absolute paths, no `..` segments; default `runs`. */
export function safeRunsDirectory(value: unknown): string {
  const s = str(value);
  if (s === undefined) {
    return "runs";
  }
  const parts = s.replace(/\\/g, "/").split("/").filter((p) => p !== "" && p !== ".");
  if (s.startsWith("/") || /^[A-Za-z]:/.test(s) || parts.includes("..") || parts.length === 0) {
    return "runs";
  }
  return parts.join("/");
}

/** Only http(s) URLs; anything else is ignored (undefined = the provider's default). */
export function safeBaseUrl(value: unknown): string | undefined {
  const s = str(value);
  if (s === undefined) {
    return undefined;
  }
  try {
    const url = new URL(s);
    return url.protocol === "https:" || url.protocol === "http:" ? s.replace(/\/+$/, "") : undefined;
  } catch {
    return undefined;
  }
}

export function parseSettings(
  config: ConfigSource,
  env: NodeJS.ProcessEnv = process.env,
  home: string = env.HOME ?? "",
): TunelineSettings {
  const interpreter = str(config.get<string>("interpreter"));
  return {
    interpreter: interpreter === undefined ? undefined : expandPath(interpreter, env, home),
    runsDirectory: safeRunsDirectory(config.get("runsDirectory")),
    models: strList(config.get("models"), DEFAULT_MODELS),
    sshHosts: strList(config.get("ssh.hosts"), []),
    openaiBaseUrl: safeBaseUrl(config.get("openai.baseUrl")),
    progressNotifications: bool(config.get("progress.notifications"), true),
    languageStatus: bool(config.get("languageStatus"), true),
  };
}

/** LSP trace level for a `LogOutputChannel` level (vscode.LogLevel: Off 0, Trace 1, Debug 2, ...). */
export type TraceName = "off" | "messages" | "verbose";

export function traceForLogLevel(level: number): TraceName {
  if (level === 1) {
    return "verbose";
  }
  if (level === 2) {
    return "messages";
  }
  return "off";
}
