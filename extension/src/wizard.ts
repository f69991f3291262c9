/**
 * The quick-pick flows of Train… and Evaluate…: dataset, target (local / ssh host / OpenAI),
 * model and method. Each step remembers its last answer per workspace (workspaceState) and
 * offers it first. Returns the choices; the caller builds the server call (args.ts).
 */
import * as path from "node:path";
import * as vscode from "vscode";
import { EvaluateChoices, Method, Target, TrainChoices, methodsFor, parseTargetId, targetId, withLastFirst } from "./args";
import { RunInfo, listRuns } from "./runs";
import { TunelineSettings } from "./settings";

const OTHER = "$(edit) Other…";

export class Memory {
  constructor(private readonly state: vscode.Memento) {}
  get(key: string): string | undefined {
    return this.state.get<string>(`tuneline.last.${key}`);
  }
  set(key: string, value: string): Thenable<void> {
    return this.state.update(`tuneline.last.${key}`, value);
  }
}

interface Item<T> extends vscode.QuickPickItem {
  value: T;
  key: string;
}

async function pick<T>(memory: Memory, memKey: string, title: string, items: Item<T>[], placeHolder: string): Promise<T | undefined> {
  const ordered = withLastFirst(items, memory.get(memKey), (i) => i.key);
  const last = memory.get(memKey);
  for (const i of ordered) {
    if (i.key === last && !i.description?.includes("last used")) {
      i.description = i.description ? `${i.description} · last used` : "last used";
    }
  }
  const chosen = await vscode.window.showQuickPick(ordered, { title, placeHolder, ignoreFocusOut: true, matchOnDescription: true });
  if (!chosen) {
    return undefined;
  }
  await memory.set(memKey, chosen.key);
  return chosen.value;
}

/** Workspace JSONL files (excluding runs and dependency folders), active file first. */
async function datasetItems(runsDirectory: string): Promise<Item<vscode.Uri>[]> {
  const exclude = `{**/node_modules/**,**/.venv/**,**/.git/**,${runsDirectory}/**}`;
  const files = await vscode.workspace.findFiles("**/*.jsonl", exclude, 500);
  const active = vscode.window.activeTextEditor?.document;
  if (active?.languageId === "jsonl" && active.uri.scheme === "file" && !files.some((f) => f.toString() === active.uri.toString())) {
    files.unshift(active.uri);
  }
  return files.map((uri) => ({
    label: `$(file) ${path.basename(uri.fsPath)}`,
    description: vscode.workspace.asRelativePath(uri, true),
    value: uri,
    key: uri.toString(),
  }));
}

async function pickDataset(memory: Memory, memKey: string, title: string, runsDirectory: string): Promise<vscode.Uri | undefined> {
  const items = await datasetItems(runsDirectory);
  if (items.length === 0) {
    void vscode.window.showWarningMessage("Tuneline: no .jsonl files in this workspace.");
    return undefined;
  }
  const active = vscode.window.activeTextEditor?.document.uri.toString();
  const sorted = active ? withLastFirst(items, active, (i) => i.key) : items;
  return pick(memory, memKey, title, sorted, "Dataset (JSONL)");
}

async function pickTarget(memory: Memory, title: string, settings: TunelineSettings, allowSsh: boolean): Promise<Target | undefined> {
  const items: Item<string>[] = [{ label: "$(device-desktop) Local", description: "this machine", value: "local", key: "local" }];
  if (allowSsh) {
    for (const host of settings.sshHosts) {
      items.push({ label: `$(remote) ${host}`, description: "SSH host", value: `ssh:${host}`, key: `ssh:${host}` });
    }
    items.push({ label: "$(remote) SSH host…", description: "type a host from ~/.ssh/config", value: "ssh:", key: "ssh:" });
  }
  items.push({ label: "$(cloud) OpenAI", description: settings.openaiBaseUrl ?? "api.openai.com", value: "openai", key: "openai" });
  const id = await pick(memory, "target", title, items, "Where should it run?");
  if (id === undefined) {
    return undefined;
  }
  if (id === "ssh:") {
    const host = await vscode.window.showInputBox({
      title,
      prompt: "SSH host (as in ~/.ssh/config)",
      value: memory.get("sshHost"),
      validateInput: (v) => (/^[A-Za-z0-9_.@-]+$/.test(v.trim()) && !v.trim().startsWith("-") ? undefined : "Letters, digits, . _ - @ only"),
      ignoreFocusOut: true,
    });
    if (!host) {
      return undefined;
    }
    await memory.set("sshHost", host.trim());
    return { kind: "ssh", host: host.trim() };
  }
  return parseTargetId(id);
}

async function pickModel(memory: Memory, title: string, settings: TunelineSettings, target: Target): Promise<string | undefined> {
  const models = settings.models.filter((m) => (target.kind === "openai") === /^(gpt-|ft:|o\d)/.test(m));
  const items: Item<string>[] = models.map((m) => ({ label: m, value: m, key: m }));
  items.push({ label: OTHER, description: "type a model id", value: "", key: "" });
  const last = memory.get(`model.${target.kind}`);
  if (last && !models.includes(last)) {
    items.unshift({ label: last, value: last, key: last });
  }
  const model = await pick(memory, `model.${target.kind}`, title, items, "Base model");
  if (model === "") {
    const typed = await vscode.window.showInputBox({ title, prompt: "Model id (Hugging Face repo, local path, or OpenAI model)", ignoreFocusOut: true });
    if (typed?.trim()) {
      await memory.set(`model.${target.kind}`, typed.trim());
    }
    return typed?.trim() || undefined;
  }
  return model;
}

export async function trainWizard(memory: Memory, settings: TunelineSettings): Promise<TrainChoices | undefined> {
  const title = "Tuneline: Train";
  const dataset = await pickDataset(memory, "trainDataset", title, settings.runsDirectory);
  if (!dataset) {
    return undefined;
  }
  const target = await pickTarget(memory, title, settings, true);
  if (!target) {
    return undefined;
  }
  const model = await pickModel(memory, title, settings, target);
  if (!model) {
    return undefined;
  }
  const methods = methodsFor(target.kind);
  const method =
    methods.length === 1
      ? methods[0].id
      : await pick<Method>(memory, `method.${targetId(target)}`, title,
          methods.map((m) => ({ label: m.label, detail: m.detail, value: m.id, key: m.id })), "Method");
  if (!method) {
    return undefined;
  }
  return {
    dataset: dataset.fsPath,
    model,
    method,
    target,
    workspaceFolder: vscode.workspace.getWorkspaceFolder(dataset)?.uri.fsPath,
  };
}

export async function evaluateWizard(memory: Memory, settings: TunelineSettings): Promise<EvaluateChoices | undefined> {
  const title = "Tuneline: Evaluate";
  const dataset = await pickDataset(memory, "evalDataset", title, settings.runsDirectory);
  if (!dataset) {
    return undefined;
  }
  const runs = (await listRuns(settings.runsDirectory)).filter((r) => r.summary.status === "completed" && r.summary.kind !== "eval");
  const subjects: Item<{ run?: RunInfo }>[] = runs.map((r) => ({
    label: `$(beaker) ${r.id}`,
    description: [r.summary.model, r.summary.method].filter(Boolean).join(" · "),
    detail: "Compare this fine-tuned run (B) against its base model (A)",
    value: { run: r },
    key: r.id,
  }));
  subjects.push({ label: "$(symbol-class) A model only", description: "no fine-tuned run", value: {}, key: "" });
  const chosen = await pick(memory, "evalSubject", title, subjects, "What should be evaluated?");
  if (!chosen) {
    return undefined;
  }
  const subject = chosen.run;
  const target = await pickTarget(memory, title, settings, false);
  if (!target) {
    return undefined;
  }
  const model = subject?.summary.model ?? (await pickModel(memory, title, settings, target));
  if (!model) {
    return undefined;
  }
  return {
    dataset: dataset.fsPath,
    runId: subject?.id,
    model,
    target,
    workspaceFolder: vscode.workspace.getWorkspaceFolder(dataset)?.uri.fsPath,
  };
}
