/**
 * Which Python runs the language server, whether `tuneline` is importable there, and the
 * private virtual environment the extension can install the bundled wheel into.
 *
 * No `vscode` import: the Python extension's interpreter is passed in as a function (see
 * pythonExt.ts), so the resolution logic is unit-testable. Every subprocess gets an argument
 * array (execFile/spawn without a shell).
 */
import { execFile, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

/** Where an interpreter candidate came from (shown in messages). */
export type InterpreterSource = "setting" | "python-extension" | "private-venv" | "path";

export interface Candidate {
  python: string;
  source: InterpreterSource;
}

export type ProbeStatus =
  | "ok"
  | "not-found"
  | "not-executable"
  | "timeout"
  | "broken"
  | "too-old"
  | "missing-tuneline";

export interface ProbeResult {
  status: ProbeStatus;
  python: string;
  /** Python version, when the interpreter ran. */
  pythonVersion?: string;
  /** `tuneline.__version__` when importable. */
  tunelineVersion?: string;
  /** The interpreter's own `sys.executable`. */
  executable?: string;
  /** Human-readable detail (stderr tail, import error). */
  detail?: string;
}

export interface Resolution {
  /** The interpreter that will run the server (status ok), or the best failing one. */
  chosen: Candidate;
  probe: ProbeResult;
  /** Every candidate tried, in order, with its probe. */
  tried: Array<{ candidate: Candidate; probe: ProbeResult }>;
}

export const SOURCE_LABELS: Record<InterpreterSource, string> = {
  setting: "the `tuneline.interpreter` setting",
  "python-extension": "the Python extension's selected interpreter",
  "private-venv": "Tuneline's private environment",
  path: "`python3` on PATH",
};

/** Prints one JSON line; never raises. Checks the server's own imports (pygls) too. */
export const PROBE_SCRIPT = [
  "import json, sys",
  "info = {'python': '%d.%d.%d' % sys.version_info[:3], 'executable': sys.executable}",
  "try:",
  "    import tuneline",
  "    info['tuneline'] = getattr(tuneline, '__version__', '?')",
  "    import importlib.util as u",
  "    missing = [m for m in ('pygls', 'lsprotocol') if u.find_spec(m) is None]",
  "    if missing: info['error'] = 'missing server dependencies: ' + ', '.join(missing)",
  "except Exception as e:",
  "    info['tuneline'] = None",
  "    info['error'] = '%s: %s' % (type(e).__name__, e)",
  "print(json.dumps(info))",
].join("\n");

export const MIN_PYTHON: readonly [number, number] = [3, 10];

/** Classify a finished probe run (pure; unit-tested). */
export function classifyProbe(
  python: string,
  outcome: { error?: { code?: string | number | null; killed?: boolean; message?: string }; stdout: string; stderr: string },
): ProbeResult {
  const { error, stdout, stderr } = outcome;
  if (error?.code === "ENOENT") {
    return { status: "not-found", python, detail: `${python}: no such file or command` };
  }
  if (error?.code === "EACCES") {
    return { status: "not-executable", python, detail: `${python}: permission denied` };
  }
  if (error?.killed || error?.code === "ETIMEDOUT") {
    return { status: "timeout", python, detail: `${python} did not answer in time` };
  }
  const line = stdout.trim().split(/\r?\n/).pop() ?? "";
  let info: { python?: string; executable?: string; tuneline?: string | null; error?: string };
  try {
    info = JSON.parse(line);
  } catch {
    const tail = (stderr || stdout || String(error?.message ?? "")).trim().split(/\r?\n/).slice(-3).join(" ");
    return { status: "broken", python, detail: tail || `${python} is not a working Python interpreter` };
  }
  const base = { python, pythonVersion: info.python, executable: info.executable };
  const [major, minor] = (info.python ?? "0.0").split(".").map(Number);
  if (major < MIN_PYTHON[0] || (major === MIN_PYTHON[0] && minor < MIN_PYTHON[1])) {
    return { ...base, status: "too-old", detail: `Python ${info.python} is too old (need ${MIN_PYTHON.join(".")}+)` };
  }
  if (!info.tuneline) {
    return { ...base, status: "missing-tuneline", detail: info.error ?? "No module named 'tuneline'" };
  }
  if (info.error) {
    return { ...base, status: "missing-tuneline", tunelineVersion: info.tuneline, detail: info.error };
  }
  return { ...base, status: "ok", tunelineVersion: info.tuneline };
}

/**
 * Run the probe in an interpreter. `cwd` should be a neutral folder (not the workspace), so a
 * `tuneline/` folder in an untrusted workspace cannot shadow the installed package.
 */
export function probe(
  python: string,
  opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<ProbeResult> {
  return new Promise((resolve) => {
    execFile(
      python,
      ["-c", PROBE_SCRIPT],
      { timeout: opts.timeoutMs ?? 20000, env: opts.env ?? process.env, cwd: opts.cwd, windowsHide: true, maxBuffer: 1 << 20 },
      (error, stdout, stderr) => resolve(classifyProbe(python, { error: error ?? undefined, stdout, stderr })),
    );
  });
}

/**
 * Candidates in order. An explicit setting is authoritative (no silent fallback: a broken
 * setting must be reported, not papered over).
 */
export function candidates(opts: {
  setting: string | undefined;
  pythonExtension: string | undefined;
  privateVenvPython: string | undefined;
  platform?: NodeJS.Platform;
  /** Folders of an untrusted workspace: an interpreter inside them is never run. */
  untrustedFolders?: readonly string[];
}): Candidate[] {
  if (opts.setting) {
    return [{ python: opts.setting, source: "setting" }];
  }
  const out: Candidate[] = [];
  if (opts.pythonExtension && !isInside(opts.pythonExtension, opts.untrustedFolders ?? [])) {
    out.push({ python: opts.pythonExtension, source: "python-extension" });
  }
  if (opts.privateVenvPython) {
    out.push({ python: opts.privateVenvPython, source: "private-venv" });
  }
  out.push({ python: (opts.platform ?? process.platform) === "win32" ? "python" : "python3", source: "path" });
  return out;
}

/** Whether `file` lies inside one of `folders` (both absolute). */
export function isInside(file: string, folders: readonly string[]): boolean {
  const abs = path.resolve(file);
  return folders.some((f) => {
    const rel = path.relative(path.resolve(f), abs);
    return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
  });
}

/** Probe candidates in order; the first `ok` wins, else the first one tried is reported. */
export async function resolveInterpreter(
  list: Candidate[],
  probeFn: (python: string) => Promise<ProbeResult> = (p) => probe(p),
): Promise<Resolution> {
  const tried: Resolution["tried"] = [];
  for (const candidate of list) {
    const result = await probeFn(candidate.python);
    tried.push({ candidate, probe: result });
    if (result.status === "ok") {
      return { chosen: candidate, probe: result, tried };
    }
  }
  // Report the most useful failure: an interpreter that runs but lacks tuneline beats one
  // that does not exist (so the install button targets a real Python).
  const runs = tried.find((t) => t.probe.status === "missing-tuneline") ?? tried[0];
  return { chosen: runs.candidate, probe: runs.probe, tried };
}

/** One sentence for a failed resolution, naming the interpreter and where it came from. */
export function describeFailure(res: Resolution): string {
  const where = SOURCE_LABELS[res.chosen.source];
  const p = res.probe;
  switch (p.status) {
    case "not-found":
      return `The Python interpreter '${p.python}' from ${where} was not found.`;
    case "not-executable":
      return `The Python interpreter '${p.python}' from ${where} is not executable.`;
    case "timeout":
      return `The Python interpreter '${p.python}' from ${where} did not respond.`;
    case "too-old":
      return `${p.detail} ('${p.python}' from ${where}).`;
    case "missing-tuneline":
      return `Tuneline is not installed in '${p.executable ?? p.python}' (${where}): ${p.detail}.`;
    case "broken":
      return `'${p.python}' from ${where} is not a working Python interpreter: ${p.detail}`;
    default:
      return `'${p.python}' from ${where} cannot run the server.`;
  }
}

// ---------------------------------------------------------------- private environment

export function venvPython(venvDir: string, platform: NodeJS.Platform = process.platform): string {
  return platform === "win32" ? path.join(venvDir, "Scripts", "python.exe") : path.join(venvDir, "bin", "python");
}

/** The bundled wheel for this extension version (`extension/out/wheels/tuneline-<v>-*.whl`). */
export function findBundledWheel(extensionPath: string, version: string): string | undefined {
  const dir = path.join(extensionPath, "extension", "out", "wheels");
  let files: string[];
  try {
    files = fs.readdirSync(dir);
  } catch {
    return undefined;
  }
  return pickWheel(files, version, dir);
}

export function pickWheel(files: string[], version: string, dir: string): string | undefined {
  const wheels = files.filter((f) => /^tuneline-[^-]+-.*\.whl$/.test(f)).sort();
  const exact = wheels.find((f) => f.startsWith(`tuneline-${version}-`));
  const name = exact ?? wheels[wheels.length - 1];
  return name === undefined ? undefined : path.join(dir, name);
}

/** pip arguments that install the wheel (optionally with the large `train` extra). */
export function pipInstallArgs(wheel: string, withTraining: boolean): string[] {
  return [
    "-m",
    "pip",
    "install",
    "--disable-pip-version-check",
    "--no-input",
    "--upgrade",
    withTraining ? `${wheel}[train]` : wheel,
  ];
}

export interface InstallLog {
  info(message: string): void;
  error(message: string): void;
}

/** Run a process (argument array, no shell), streaming its output to the log. */
export function runLogged(
  command: string,
  args: string[],
  log: InstallLog,
  signal?: AbortSignal,
): Promise<void> {
  return new Promise((resolve, reject) => {
    log.info(`$ ${command} ${args.join(" ")}`);
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], signal, windowsHide: true });
    const forward = (chunk: Buffer, error: boolean) => {
      for (const line of chunk.toString("utf8").split(/\r?\n/)) {
        if (line.trim()) {
          (error ? log.error : log.info).call(log, line);
        }
      }
    };
    child.stdout.on("data", (c: Buffer) => forward(c, false));
    child.stderr.on("data", (c: Buffer) => forward(c, true));
    child.on("error", reject);
    child.on("close", (code, sig) => {
      if (code === 0) {
        resolve();
      } else {
        reject(new Error(`${path.basename(command)} ${args.slice(0, 3).join(" ")} failed (${sig ?? `exit ${code}`})`));
      }
    });
  });
}

/** Create (or reuse) the private venv with `basePython` and install the wheel into it. */
export async function installPrivateEnv(opts: {
  basePython: string;
  venvDir: string;
  wheel: string;
  withTraining: boolean;
  log: InstallLog;
  signal?: AbortSignal;
}): Promise<string> {
  const python = venvPython(opts.venvDir);
  if (!fs.existsSync(python)) {
    fs.mkdirSync(path.dirname(opts.venvDir), { recursive: true });
    await runLogged(opts.basePython, ["-m", "venv", opts.venvDir], opts.log, opts.signal);
  }
  await runLogged(python, pipInstallArgs(opts.wheel, opts.withTraining), opts.log, opts.signal);
  return python;
}
