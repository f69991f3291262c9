/**
 * The Python extension (`ms-python.python`), when installed: its selected interpreter for a
 * resource and an event when the selection changes. Only the few API members we use are typed.
 */
import * as vscode from "vscode";

interface EnvironmentPath {
  id: string;
  path: string;
}

interface ResolvedEnvironment {
  executable: { uri?: vscode.Uri };
}

interface PythonEnvironmentsApi {
  getActiveEnvironmentPath(resource?: vscode.Uri): EnvironmentPath;
  resolveEnvironment(env: EnvironmentPath | string): Promise<ResolvedEnvironment | undefined>;
  onDidChangeActiveEnvironmentPath: vscode.Event<unknown>;
}

interface PythonExtensionApi {
  environments?: PythonEnvironmentsApi;
}

const PYTHON_EXTENSION_ID = "ms-python.python";

async function api(): Promise<PythonEnvironmentsApi | undefined> {
  const ext = vscode.extensions.getExtension<PythonExtensionApi>(PYTHON_EXTENSION_ID);
  if (!ext) {
    return undefined;
  }
  try {
    const exports = ext.isActive ? ext.exports : await ext.activate();
    return exports?.environments;
  } catch {
    return undefined;
  }
}

/** The interpreter selected in the Python extension for `resource`, if any. */
export async function selectedInterpreter(resource?: vscode.Uri): Promise<string | undefined> {
  const envs = await api();
  if (!envs) {
    return undefined;
  }
  try {
    const active = envs.getActiveEnvironmentPath(resource);
    const resolved = await envs.resolveEnvironment(active);
    return resolved?.executable.uri?.fsPath ?? active.path;
  } catch {
    return undefined;
  }
}

/** Subscribe to interpreter selection changes (no-op without the Python extension). */
export async function onInterpreterChanged(listener: () => void): Promise<vscode.Disposable> {
  const envs = await api();
  return envs ? envs.onDidChangeActiveEnvironmentPath(() => listener()) : new vscode.Disposable(() => undefined);
}
