/**
 * Arguments of the server's `workspace/executeCommand` commands, built from the user's choices,
 * plus the equivalent `tuneline` command line (logged, so every palette action can be replayed
 * in a terminal or CI).
 *
 * Pure: no `vscode` import, unit-tested with node's test runner. Each server command takes one
 * JSON object argument; paths are absolute file-system paths.
 */

export type TargetKind = "local" | "ssh" | "openai";

export interface Target {
  kind: TargetKind;
  /** SSH host (as in ~/.ssh/config) when kind is "ssh". */
  host?: string;
}

export type Method = "lora" | "qlora" | "full" | "openai";

export interface MethodInfo {
  id: Method;
  label: string;
  detail: string;
}

const METHODS: readonly MethodInfo[] = [
  { id: "lora", label: "LoRA", detail: "Low-rank adapters on a full-precision base model" },
  { id: "qlora", label: "QLoRA", detail: "LoRA on a 4-bit quantised base model (needs a CUDA GPU)" },
  { id: "full", label: "Full fine-tune", detail: "Update every weight (small models only)" },
  { id: "openai", label: "OpenAI fine-tuning job", detail: "Upload the dataset and start a hosted job" },
];

/** The training methods that make sense for a target. */
export function methodsFor(target: TargetKind): MethodInfo[] {
  return METHODS.filter((m) => (target === "openai" ? m.id === "openai" : m.id !== "openai"));
}

export interface TrainChoices {
  dataset: string;
  model: string;
  method: Method;
  target: Target;
  /** Optional validation split (absolute path). */
  validation?: string;
  /** Workspace folder the run belongs to (runs go under it). */
  workspaceFolder?: string;
}

export interface EvaluateChoices {
  /** Evaluation set (JSONL, absolute path). */
  dataset: string;
  /** The fine-tuned run to evaluate (its id), or undefined to evaluate `model` alone. */
  runId?: string;
  /** Model under test when no run is given; the baseline (A side) otherwise. */
  model: string;
  target: Target;
  workspaceFolder?: string;
}

export interface ServerCall {
  /** Server command name (`tuneline.train`, ...). */
  command: string;
  /** The command's single JSON argument. */
  argument: Record<string, unknown>;
  /** The same action as a `tuneline` CLI argv (without the program name). */
  cli: string[];
}

export class ChoiceError extends Error {}

function requireNonEmpty(value: string | undefined, what: string): string {
  if (value === undefined || value.trim() === "") {
    throw new ChoiceError(`${what} is required`);
  }
  return value.trim();
}

function targetArgs(target: Target): { argument: Record<string, unknown>; cli: string[] } {
  if (target.kind === "ssh") {
    const host = requireNonEmpty(target.host, "an SSH host");
    if (host.startsWith("-") || /\s/.test(host)) {
      throw new ChoiceError(`'${host}' is not a valid SSH host name`);
    }
    return { argument: { target: "ssh", host }, cli: ["--target", "ssh", "--host", host] };
  }
  return { argument: { target: target.kind }, cli: ["--target", target.kind] };
}

export function buildTrainCall(choices: TrainChoices): ServerCall {
  const dataset = requireNonEmpty(choices.dataset, "a dataset");
  const model = requireNonEmpty(choices.model, "a model");
  const allowed = methodsFor(choices.target.kind).map((m) => m.id);
  if (!allowed.includes(choices.method)) {
    throw new ChoiceError(`method '${choices.method}' is not available for target '${choices.target.kind}'`);
  }
  const t = targetArgs(choices.target);
  // wait: false — the server answers at once with the run id (its progress continues on a
  // token of its own), so the run view can draw the curves while the job runs.
  const argument: Record<string, unknown> = { dataset, model, method: choices.method, ...t.argument, wait: false };
  const cli = ["train", dataset, "--model", model, "--method", choices.method, ...t.cli];
  if (choices.validation) {
    argument.validation = choices.validation;
    cli.push("--validation", choices.validation);
  }
  if (choices.workspaceFolder) {
    argument.workspace = choices.workspaceFolder;
  }
  return { command: "tuneline.train", argument, cli };
}

export function buildEvaluateCall(choices: EvaluateChoices): ServerCall {
  const dataset = requireNonEmpty(choices.dataset, "an evaluation set");
  const model = requireNonEmpty(choices.model, "a model");
  const t = targetArgs(choices.target);
  const argument: Record<string, unknown> = { dataset, model, ...t.argument, wait: false };
  const cli = ["eval", dataset, "--model", model, ...t.cli];
  if (choices.runId) {
    argument.run_id = choices.runId;
    cli.push("--run", choices.runId);
  }
  if (choices.workspaceFolder) {
    argument.workspace = choices.workspaceFolder;
  }
  return { command: "tuneline.evaluate", argument, cli };
}

export function buildAugmentCall(path: string, uri: string, line: number, count: number): ServerCall {
  if (!Number.isInteger(line) || line < 0) {
    throw new ChoiceError(`line must be a non-negative integer, got ${line}`);
  }
  if (!Number.isInteger(count) || count < 1 || count > 50) {
    throw new ChoiceError(`count must be between 1 and 50, got ${count}`);
  }
  return {
    command: "tuneline.augment",
    argument: { uri, line, count },
    cli: ["augment", path, "--line", String(line + 1), "--count", String(count)],
  };
}

export function buildStatsCall(path: string, uri: string): ServerCall {
  return { command: "tuneline.datasetStats", argument: { uri }, cli: ["stats", path] };
}

export function buildLintWorkspaceCall(folders: string[]): ServerCall {
  return {
    command: "tuneline.lintWorkspace",
    argument: { folders },
    cli: ["lint", ...(folders.length ? folders : ["."])],
  };
}

export function buildCancelCall(runId: string): ServerCall {
  const id = requireNonEmpty(runId, "a run id");
  return { command: "tuneline.cancelRun", argument: { run_id: id }, cli: ["runs", "cancel", id] };
}

export function buildListRunsCall(folder: string | undefined): ServerCall {
  return {
    command: "tuneline.listRuns",
    argument: folder ? { workspace: folder } : {},
    cli: ["runs", "list"],
  };
}

/** Quote an argv for display (logs only; never executed through a shell). */
export function displayCommandLine(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`)).join(" ");
}

/** Move the remembered choice to the front of a pick list (stable otherwise). */
export function withLastFirst<T>(items: readonly T[], last: string | undefined, key: (item: T) => string): T[] {
  if (last === undefined) {
    return [...items];
  }
  const hit = items.findIndex((i) => key(i) === last);
  if (hit < 0) {
    return [...items];
  }
  return [items[hit], ...items.slice(0, hit), ...items.slice(hit + 1)];
}

/** Parse a target pick id (`local`, `openai`, `ssh:<host>`). */
export function parseTargetId(id: string): Target {
  if (id === "local" || id === "openai") {
    return { kind: id };
  }
  if (id.startsWith("ssh:")) {
    return { kind: "ssh", host: id.slice(4) };
  }
  throw new ChoiceError(`unknown target '${id}'`);
}

export function targetId(target: Target): string {
  return target.kind === "ssh" ? `ssh:${target.host ?? ""}` : target.kind;
}
