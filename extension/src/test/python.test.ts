import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import {
  ProbeResult,
  candidates,
  classifyProbe,
  describeFailure,
  findBundledWheel,
  isInside,
  pickWheel,
  pipInstallArgs,
  probe,
  resolveInterpreter,
  venvPython,
} from "../python";

const ok = (python: string): ProbeResult => ({ status: "ok", python, pythonVersion: "3.11.7", tunelineVersion: "0.1.0", executable: python });
const missing = (python: string): ProbeResult => ({ status: "missing-tuneline", python, pythonVersion: "3.11.7", executable: python, detail: "No module named 'tuneline'" });
const notFound = (python: string): ProbeResult => ({ status: "not-found", python });

test("an explicit setting is the only candidate", () => {
  assert.deepEqual(candidates({ setting: "/x/python", pythonExtension: "/y/python", privateVenvPython: "/v/python", platform: "linux" }), [
    { python: "/x/python", source: "setting" },
  ]);
});

test("without a setting: Python extension, private venv, then python3", () => {
  assert.deepEqual(
    candidates({ setting: undefined, pythonExtension: "/y/python", privateVenvPython: "/v/python", platform: "linux" }).map((c) => c.source),
    ["python-extension", "private-venv", "path"],
  );
  assert.deepEqual(candidates({ setting: undefined, pythonExtension: undefined, privateVenvPython: undefined, platform: "linux" }), [
    { python: "python3", source: "path" },
  ]);
  assert.equal(candidates({ setting: undefined, pythonExtension: undefined, privateVenvPython: undefined, platform: "win32" })[0].python, "python");
});

test("untrusted workspace: the Python extension's interpreter inside it is skipped", () => {
  const base = { setting: undefined, privateVenvPython: undefined, platform: "linux" as const };
  assert.deepEqual(
    candidates({ ...base, pythonExtension: "/ws/.venv/bin/python", untrustedFolders: ["/ws"] }).map((c) => c.source),
    ["path"],
  );
  assert.deepEqual(
    candidates({ ...base, pythonExtension: "/usr/bin/python3", untrustedFolders: ["/ws"] }).map((c) => c.source),
    ["python-extension", "path"],
  );
  assert.equal(isInside("/ws2/python", ["/ws"]), false);
  assert.equal(isInside("/ws/a/../b/python", ["/ws"]), true);
});

test("resolution takes the first interpreter that has tuneline", async () => {
  const list = candidates({ setting: undefined, pythonExtension: "/ext/python", privateVenvPython: "/venv/python", platform: "linux" });
  const res = await resolveInterpreter(list, async (p) => (p === "/venv/python" ? ok(p) : missing(p)));
  assert.equal(res.chosen.source, "private-venv");
  assert.equal(res.tried.length, 2);
});

test("failure reports an interpreter that runs (so Install has a base Python)", async () => {
  const list = candidates({ setting: undefined, pythonExtension: "/gone/python", privateVenvPython: undefined, platform: "linux" });
  const res = await resolveInterpreter(list, async (p) => (p === "/gone/python" ? notFound(p) : missing(p)));
  assert.equal(res.probe.status, "missing-tuneline");
  assert.equal(res.chosen.python, "python3");
  assert.match(describeFailure(res), /Tuneline is not installed in 'python3'/);
});

test("a broken setting is reported as such, naming the setting", async () => {
  const res = await resolveInterpreter(candidates({ setting: "/nope/python", pythonExtension: undefined, privateVenvPython: undefined }), async (p) => notFound(p));
  assert.equal(res.probe.status, "not-found");
  assert.match(describeFailure(res), /'\/nope\/python' from the `tuneline.interpreter` setting was not found/);
});

test("probe classification", () => {
  assert.equal(classifyProbe("p", { error: { code: "ENOENT" }, stdout: "", stderr: "" }).status, "not-found");
  assert.equal(classifyProbe("p", { error: { code: "EACCES" }, stdout: "", stderr: "" }).status, "not-executable");
  assert.equal(classifyProbe("p", { error: { killed: true }, stdout: "", stderr: "" }).status, "timeout");
  assert.equal(classifyProbe("p", { error: { code: 1 }, stdout: "", stderr: "Traceback...\nSyntaxError: x" }).status, "broken");
  assert.equal(classifyProbe("p", { stdout: '{"python": "3.8.10", "tuneline": "0.1.0"}', stderr: "" }).status, "too-old");
  const miss = classifyProbe("p", { stdout: '{"python": "3.11.2", "executable": "/usr/bin/python3", "tuneline": null, "error": "ModuleNotFoundError: No module named \'tuneline\'"}', stderr: "" });
  assert.equal(miss.status, "missing-tuneline");
  assert.equal(miss.executable, "/usr/bin/python3");
  const deps = classifyProbe("p", { stdout: '{"python": "3.12.1", "tuneline": "0.1.0", "error": "missing server dependencies: pygls"}', stderr: "" });
  assert.equal(deps.status, "missing-tuneline");
  assert.match(deps.detail ?? "", /pygls/);
  const good = classifyProbe("p", { stdout: 'noise\n{"python": "3.10.0", "tuneline": "0.2.0", "executable": "/v/bin/python"}\n', stderr: "" });
  assert.deepEqual([good.status, good.tunelineVersion, good.executable], ["ok", "0.2.0", "/v/bin/python"]);
});

test("probe runs a real interpreter without a shell", async () => {
  const res = await probe("/definitely/not/here/python3");
  assert.equal(res.status, "not-found");
  const sys = await probe(process.platform === "win32" ? "python" : "python3");
  assert.ok(["ok", "missing-tuneline", "too-old"].includes(sys.status), `python3 probe: ${sys.status} ${sys.detail ?? ""}`);
});

test("venv layout and pip arguments", () => {
  assert.equal(venvPython("/s/venv", "linux"), path.join("/s/venv", "bin", "python"));
  assert.equal(venvPython("C:\\s\\venv", "win32"), path.join("C:\\s\\venv", "Scripts", "python.exe"));
  assert.deepEqual(pipInstallArgs("/e/tuneline-0.1.0-py3-none-any.whl", false).slice(-1), ["/e/tuneline-0.1.0-py3-none-any.whl"]);
  assert.deepEqual(pipInstallArgs("/e/t.whl", true).slice(-1), ["/e/t.whl[train]"]);
  assert.deepEqual(pipInstallArgs("/e/t.whl", false).slice(0, 3), ["-m", "pip", "install"]);
});

test("bundled wheel: this version preferred", () => {
  const files = ["tuneline-0.0.9-py3-none-any.whl", "tuneline-0.1.0-py3-none-any.whl", "README", "other-0.1.0-py3-none-any.whl"];
  assert.equal(pickWheel(files, "0.1.0", "/d"), path.join("/d", "tuneline-0.1.0-py3-none-any.whl"));
  assert.equal(pickWheel(files, "9.9.9", "/d"), path.join("/d", "tuneline-0.1.0-py3-none-any.whl"));
  assert.equal(pickWheel(["x.whl"], "0.1.0", "/d"), undefined);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tl-ext-"));
  assert.equal(findBundledWheel(dir, "0.1.0"), undefined);
  fs.mkdirSync(path.join(dir, "extension", "out", "wheels"), { recursive: true });
  fs.writeFileSync(path.join(dir, "extension", "out", "wheels", "tuneline-0.1.0-py3-none-any.whl"), "");
  assert.equal(findBundledWheel(dir, "0.1.0"), path.join(dir, "extension", "out", "wheels", "tuneline-0.1.0-py3-none-any.whl"));
  fs.rmSync(dir, { recursive: true });
});
