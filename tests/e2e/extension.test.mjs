// End-to-end: the packaged extension in a real VS Code workbench (code-server), driven through
// the UI with Playwright in headless Chromium, talking to the real `python -m tuneline serve`.
// Run with `make e2e`. Screenshots and logs land in test-artifacts/e2e/.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import * as h from "./harness.mjs";

const FIXTURE = path.join(h.ROOT, "tests", "e2e", "fixtures", "workspace", "training.jsonl");
const SQUIGGLE = ".monaco-editor .squiggly-error";

/** Problems-panel rows as {rule, line, col}; waits until `min` rows are listed. */
async function problemRows(page, min) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const rows = (await h.problems(page))
      .map((t) => /\n(TL\d{3})\n\[Ln (\d+), Col (\d+)\]/.exec(t))
      .filter(Boolean)
      .map((m) => ({ rule: m[1], line: Number(m[2]), col: Number(m[3]) }));
    if (rows.length >= min || Date.now() > deadline) {
      return rows;
    }
    await h.sleep(500);
  }
}

const key = (p) => `${p.rule}@${p.line}:${p.col}`;

let shots = 0;
/**
 * A test step that always leaves a screenshot (test-artifacts/e2e/NN-<suite>-<step>.png),
 * passed or failed. `getPage` returns the suite's page.
 */
function step(suite, getPage, name, fn) {
  it(name, async () => {
    try {
      await fn();
    } finally {
      const slug = `${String(++shots).padStart(2, "0")}-${suite}-${name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "").slice(0, 50)}`;
      const page = getPage();
      if (page) {
        await h.screenshot(page, slug);
      }
    }
  });
}

/** Squiggles must appear within `timeout` (the server is up and publishing). */
async function expectSquiggles(page, timeout = 30_000) {
  await page.locator(SQUIGGLE).first().waitFor({ state: "visible", timeout });
  return page.locator(SQUIGGLE).count();
}

/** Write N JSONL files of distinct random chat examples (so the linter has real work). */
function writeBigFiles(dir, files, lines) {
  fs.mkdirSync(dir, { recursive: true });
  const letters = "abcdefghijklmnopqrstuvwxyz";
  const word = () => Array.from({ length: 3 + Math.floor(Math.random() * 6) }, () => letters[Math.floor(Math.random() * 26)]).join("");
  const sentence = (n) => Array.from({ length: n }, word).join(" ");
  for (let f = 0; f < files; f++) {
    const out = [];
    for (let i = 0; i < lines; i++) {
      out.push(JSON.stringify({ messages: [{ role: "user", content: `${sentence(10)}?` }, { role: "assistant", content: `${sentence(22)}.` }] }));
    }
    fs.writeFileSync(path.join(dir, `bulk-${f}.jsonl`), out.join("\n") + "\n");
  }
}

const JOBS_ITEM = '.statusbar-item[id$="tuneline.jobs"]';

describe("trusted workspace", () => {
  let vscode;
  let page;
  const test = (name, fn) => step("trusted", () => page, name, fn);
  before(async () => {
    vscode = await h.startVSCode("trusted", { settings: { "tuneline.interpreter": h.PYTHON } });
    page = await h.newPage("trusted");
    await h.openWorkbench(page, vscode);
    await h.openFile(page, "training.jsonl");
  });
  after(async () => {
    await page?.close();
    await vscode?.stop();
  });

  test("shows squiggles and Problems-panel entries at the lines the CLI reports", async () => {
    const expected = h.lintJson(FIXTURE);
    assert.ok(expected.length >= 5, "the fixture has problems");
    const count = await expectSquiggles(page);
    assert.ok(count >= 3, `squiggles: ${count}`);
    const rows = await problemRows(page, expected.length);
    assert.deepEqual(rows.map(key).sort(), expected.map((p) => key({ rule: p.rule, line: p.line, col: p.column })).sort());
    // The rule id is the diagnostic code, shown next to each message.
    const texts = await page.locator(".markers-panel .monaco-list-row").allInnerTexts();
    assert.ok(texts.some((t) => t.includes("'bot' is not a role")), texts.join("\n"));
  });

  test("hovers a problem with its message and rule", async () => {
    await page.keyboard.press("Escape");
    await page.locator(".part.editor .monaco-editor .view-lines").first().click();
    const squiggle = page.locator(SQUIGGLE).first();
    const box = await squiggle.boundingBox();
    assert.ok(box, "a squiggle is on screen");
    // locator.hover() hangs on squiggles (.view-lines takes the pointer): move the mouse.
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.move(box.x + box.width / 2 + 1, box.y + box.height / 2);
    const hover = page.locator(".monaco-hover:not(.hidden)").filter({ hasText: /TL\d{3}/ }).first();
    await hover.waitFor({ state: "visible", timeout: 15_000 });
    assert.match(await hover.innerText(), /TL\d{3}/);
    await page.mouse.move(5, 450);
    await page.keyboard.press("Escape");
  });

  test("applies a quick fix through Ctrl+. and Undo restores the line", async () => {
    await page.locator(".part.editor .monaco-editor .view-lines").first().click();
    const before = await h.editorLineText(page, 3);
    assert.match(before, /"role": "bot"/);
    await h.gotoLine(page, 3, 92); // inside "bot"
    await page.keyboard.press("Control+.");
    const item = page.locator(".action-widget .monaco-list-row").filter({ hasText: "'assistant'" }).first();
    await item.waitFor({ state: "visible", timeout: 15_000 });
    await h.screenshot(page, "trusted-quickfix-menu");
    await item.click();
    await waitForLine(page, "spider", '"role": "assistant"');
    const fixed = await h.editorLineText(page, 3);
    assert.match(fixed, /"role": "assistant"/);
    assert.doesNotMatch(fixed, /"bot"/);
    // The TL101 problem goes away once the server re-lints the buffer.
    await page.waitForFunction(() => ![...document.querySelectorAll(".markers-panel .monaco-list-row")].some((r) => r.textContent.includes("TL101")), null, { timeout: 15_000 });
    await page.locator(".part.editor .monaco-editor .view-lines").first().click();
    await page.keyboard.press("Control+Z");
    await waitForLine(page, "spider", '"role": "bot"');
    assert.equal(await h.editorLineText(page, 3), before);
  });

  test("shows the outline, inlay hints and the dataset language status", async () => {
    // Outline (document symbols): one per example.
    await h.runCommand(page, "Explorer: Focus on Outline View");
    const outline = page.locator(".outline-pane .monaco-list-row, .pane-body.outline-pane .monaco-list-row");
    await outline.first().waitFor({ timeout: 15_000 });
    assert.ok((await outline.count()) >= 5, `outline rows: ${await outline.count()}`);
    // Inlay hints: "N tokens" after the examples.
    await page.waitForFunction(() => /\d+\stokens/.test(document.querySelector(".monaco-editor .view-lines")?.textContent ?? ""), null, { timeout: 15_000 });
    // Language status: format and example count.
    await page.locator('[id="status.languageStatus"]').click();
    const status = page.locator(".hover-language-status, .monaco-hover").filter({ hasText: /examples/ }).first();
    await status.waitFor({ state: "visible", timeout: 15_000 });
    assert.match(await status.innerText(), /\d+ examples/);
    await page.keyboard.press("Escape");
  });

  test("draws a run's loss curves live and its evaluation report in a themed webview", async () => {
    const run = path.join(vscode.workspace, "runs", "demo-run");
    fs.mkdirSync(path.join(run, "eval"), { recursive: true });
    const t = Date.now() / 1000;
    const ev = [{ type: "start", time: t, run_id: "demo-run", kind: "train", model: "tiny-llama", method: "lora" }];
    for (let s = 1; s <= 10; s++) {
      ev.push({ type: "progress", time: t + s, step: s, total: 20, loss: 3 / Math.sqrt(s), learning_rate: 1e-4, tokens_per_second: 900, eta_seconds: 20 - s });
    }
    ev.push({ type: "metric", time: t + 10, step: 10, metrics: { eval_loss: 1.4 } });
    fs.writeFileSync(path.join(run, "events.jsonl"), ev.map((e) => JSON.stringify(e)).join("\n") + "\n");
    fs.writeFileSync(
      path.join(run, "eval", "report.json"),
      JSON.stringify({
        title: "tiny-llama: base vs LoRA",
        models: [{ id: "A", label: "base" }, { id: "B", label: "fine-tuned" }],
        metrics: [{ name: "exact_match", label: "Exact match", values: { A: 0.25, B: 0.75 } }],
        questions: [{ id: "q1", prompt: "Capital of France?", reference: "Paris", answers: { A: "Lyon <b>bold?</b>", B: "Paris" }, winner: "B" }],
      }),
    );
    await h.runCommand(page, "Tuneline: Open Run Report");
    const pick = page.locator(".quick-input-list .monaco-list-row", { hasText: "demo-run" }).first();
    await pick.waitFor();
    await pick.click();
    // The webview is nested iframes; find the frame that has our chart.
    const frame = await waitForFrame(page, "#chart");
    await frame.waitForSelector('#chart path[data-series="loss"]');
    const points = () => frame.$eval('#chart path[data-series="loss"]', (p) => Number(p.getAttribute("data-points")));
    assert.equal(await points(), 10);
    assert.ok(await frame.$('#chart path[data-series="eval"]'), "eval-loss curve drawn");
    assert.match(await frame.$eval("#metrics", (t) => t.textContent), /Exact match.*0\.2500.*0\.7500/s);
    // Untrusted text is shown as text, never parsed as HTML.
    assert.equal(await frame.$$eval(".answers b", (b) => b.length), 0);
    assert.match(await frame.$eval(".answers", (a) => a.textContent), /Lyon <b>bold\?<\/b>/);
    // CSP with a nonce, and theme colours from VS Code variables.
    const csp = await frame.$eval('meta[http-equiv="Content-Security-Policy"]', (m) => m.getAttribute("content"));
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'nonce-/);
    const fg = await frame.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue("--vscode-foreground").trim());
    assert.ok(fg.length > 0, "theme variables reach the webview");
    // Live: appended events show up without reopening.
    const more = [];
    for (let s = 11; s <= 15; s++) {
      more.push({ type: "progress", time: t + s, step: s, total: 20, loss: 3 / Math.sqrt(s), learning_rate: 1e-4, tokens_per_second: 900, eta_seconds: 20 - s });
    }
    fs.appendFileSync(path.join(run, "events.jsonl"), more.map((e) => JSON.stringify(e)).join("\n") + "\n");
    await frame.waitForFunction(() => Number(document.querySelector('#chart path[data-series="loss"]')?.getAttribute("data-points")) === 15, null, { timeout: 15_000 });
  });

  test("keeps an API key in SecretStorage and hands it to the server's environment only", async () => {
    const before = h.serverProcesses(vscode).map((p) => p.pid);
    assert.equal(before.length, 1, "one server process");
    await h.runCommand(page, "Tuneline: Set API Key");
    const openai = page.locator(".quick-input-list .monaco-list-row", { hasText: "OpenAI" }).first();
    await openai.waitFor();
    await openai.click();
    const input = page.locator(".quick-input-widget input[type=password]");
    await input.waitFor();
    const secret = "sk-e2e-not-a-real-key-1234567890";
    await input.fill(secret);
    await page.keyboard.press("Enter");
    await h.waitForToast(page, /OpenAI key was stored/);
    // The server restarts with the key in its environment.
    let procs = [];
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      procs = h.serverProcesses(vscode).filter((p) => !before.includes(p.pid));
      if (procs.length) {
        break;
      }
      await h.sleep(250);
    }
    assert.equal(procs.length, 1, "a restarted server");
    assert.equal(procs[0].env.OPENAI_API_KEY, secret);
    assert.equal(procs[0].env.TUNELINE_TRUSTED, "1");
    // ...and nowhere in settings.
    for (const rel of ["User/settings.json", "Machine/settings.json"]) {
      assert.doesNotMatch(fs.readFileSync(path.join(vscode.userData, rel), "utf8"), /sk-e2e/);
    }
    // The restarted server lints again.
    await h.openFile(page, "training.jsonl");
    await expectSquiggles(page);
  });

  test("runs a palette command with visible, cancellable progress", async () => {
    await page.keyboard.press("Escape");
    writeBigFiles(path.join(vscode.workspace, "bulk"), 8, 4000);
    await h.sleep(1000);
    await h.runCommand(page, "Tuneline: Lint Workspace");
    const toast = await h.waitForToast(page, /linting the workspace/i, 20_000);
    // Progress shows in the status bar too.
    await page.locator(JOBS_ITEM, { hasText: /linting the workspace/i }).waitFor({ timeout: 10_000 });
    await h.screenshot(page, "trusted-progress-notification");
    const cancel = toast.getByRole("button", { name: "Cancel" });
    await cancel.click();
    await h.waitForToast(page, /Lint Workspace cancelled after \d+ files?/, 20_000);
    await page.locator(JOBS_ITEM).waitFor({ state: "hidden", timeout: 10_000 });
  });
});

/** Wait until an editor line contains all the given strings (Monaco renders spaces as U+00A0). */
function waitForLine(page, ...parts) {
  return page.waitForFunction(
    (wanted) =>
      [...document.querySelectorAll(".monaco-editor .view-line")].some((l) => {
        const text = (l.textContent ?? "").replace(/\u00a0/g, " ");
        return wanted.every((w) => text.includes(w));
      }),
    parts,
    { timeout: 15_000 },
  );
}

/** The webview frame whose document has `selector`. */
async function waitForFrame(page, selector, timeout = 30_000) {
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    for (const f of page.frames()) {
      if (await f.$(selector).catch(() => null)) {
        return f;
      }
    }
    await h.sleep(250);
  }
  throw new Error(`no frame with ${selector}`);
}

describe("untrusted workspace", () => {
  let vscode;
  let page;
  const test = (name, fn) => step("untrusted", () => page, name, fn);
  before(async () => {
    vscode = await h.startVSCode("untrusted", { trusted: false, settings: { "tuneline.interpreter": h.PYTHON } });
    page = await h.newPage("untrusted");
    await h.openWorkbench(page, vscode);
  });
  after(async () => {
    await page?.close();
    await vscode?.stop();
  });

  test("lints in Restricted Mode", async () => {
    await h.openFile(page, "training.jsonl");
    await expectSquiggles(page);
    const [server] = h.serverProcesses(vscode);
    assert.equal(server?.env.TUNELINE_TRUSTED, "0", "the server knows it is untrusted");
  });

  test("refuses to train, with an explanation", async () => {
    await h.runCommand(page, "Tuneline: Train…");
    const toast = await h.waitForToast(page, /Restricted Mode/);
    assert.match(await toast.innerText(), /Train… is disabled in Restricted Mode/);
    // No wizard opened and nothing ran (the palette's own quick input may still be closing).
    await page.locator(".quick-input-widget").waitFor({ state: "hidden", timeout: 5000 }).catch(() => {});
    assert.equal(await page.locator(".quick-input-widget:visible").count(), 0);
    assert.equal(fs.existsSync(path.join(vscode.workspace, "runs")), false);
  });
});

describe("broken interpreter setting", () => {
  let vscode;
  let page;
  const test = (name, fn) => step("broken", () => page, name, fn);
  before(async () => {
    vscode = await h.startVSCode("broken", { settings: { "tuneline.interpreter": "/nonexistent/bin/python3" } });
    page = await h.newPage("broken");
    await h.openWorkbench(page, vscode);
    await h.openFile(page, "training.jsonl");
  });
  after(async () => {
    await page?.close();
    await vscode?.stop();
  });

  test("shows one clear error with Show Logs, and no restart loop", async () => {
    const toast = await h.waitForToast(page, /could not start/);
    const text = await toast.innerText();
    assert.match(text, /'\/nonexistent\/bin\/python3' from the `?tuneline.interpreter`? setting was not found/);
    assert.ok(await toast.getByRole("button", { name: "Show Logs" }).isVisible());
    await h.sleep(8000);
    const errors = (await h.notifications(page)).filter((t) => /could not start/.test(t));
    assert.equal(errors.length, 1, `one error, not a loop: ${errors.length}`);
    await toast.getByRole("button", { name: "Show Logs" }).click();
    // Monaco renders spaces as U+00A0: match them with \s.
    await page.locator(".part.panel .monaco-editor").filter({ hasText: /interpreter\s*'\/nonexistent\/bin\/python3'[\s\S]*was\snot\sfound/ }).first().waitFor({ timeout: 15_000 });
  });

  test("negative control: the diagnostics check fails when the server cannot start", async () => {
    await assert.rejects(expectSquiggles(page, 5000), /Timeout|exceeded/i);
  });

  test("recovers when the setting is fixed (restart on settings change)", async () => {
    vscode.updateSettings({ "tuneline.interpreter": h.PYTHON });
    await expectSquiggles(page, 45_000);
  });
});

describe("no interpreter with tuneline: install from the bundled wheel", () => {
  let vscode;
  let page;
  let base;
  const test = (name, fn) => step("install", () => page, name, fn);
  before(async () => {
    // A python3 without tuneline, first on PATH; no tuneline.interpreter setting.
    base = h.basePythonWithoutTuneline();
    const bin = h.tmpDir("bin");
    fs.symlinkSync(base, path.join(bin, "python3"));
    vscode = await h.startVSCode("install", { env: { PATH: `${bin}:${process.env.PATH}` } });
    page = await h.newPage("install");
    await h.openWorkbench(page, vscode);
    await h.openFile(page, "training.jsonl");
  });
  after(async () => {
    await page?.close();
    await vscode?.stop();
  });

  test("offers to install, installs into a private venv, and the server starts", async () => {
    const toast = await h.waitForToast(page, /Tuneline is not installed in/);
    await toast.getByRole("button", { name: "Install Tuneline" }).click();
    const core = page.locator(".quick-input-list .monaco-list-row", { hasText: "Core" }).first();
    await core.waitFor();
    await h.screenshot(page, "install-choice");
    await core.click();
    await h.waitForToast(page, /installing into a private environment/);
    await h.screenshot(page, "install-progress");
    await expectSquiggles(page, 300_000);
    const log = vscode.extensionLog();
    assert.match(log, /pip install .*extension\/out\/wheels\/tuneline-[\d.]+-py3-none-any\.whl/);
    assert.match(log, /Interpreter \S+venv\/bin\/python \(Tuneline's private environment\): ok/);
  });
});

after(async () => {
  await h.closeBrowser();
  h.cleanup();
});
