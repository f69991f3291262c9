import { strict as assert } from "node:assert";
import { test } from "node:test";
import { DEFAULT_MODELS, expandPath, parseSettings, safeBaseUrl, safeRunsDirectory, traceForLogLevel } from "../settings";

function config(values: Record<string, unknown>) {
  return { get: <T>(key: string) => values[key] as T | undefined };
}

test("defaults when nothing is set", () => {
  const s = parseSettings(config({}), {}, "/home/u");
  assert.equal(s.interpreter, undefined);
  assert.equal(s.runsDirectory, "runs");
  assert.deepEqual(s.models, [...DEFAULT_MODELS]);
  assert.deepEqual(s.sshHosts, []);
  assert.equal(s.openaiBaseUrl, undefined);
  assert.equal(s.progressNotifications, true);
  assert.equal(s.languageStatus, true);
});

test("interpreter: blank is unset, ~ and ${env:X} expand", () => {
  assert.equal(parseSettings(config({ interpreter: "   " }), {}, "/h").interpreter, undefined);
  assert.equal(parseSettings(config({ interpreter: "~/venv/bin/python" }), {}, "/h").interpreter, "/h/venv/bin/python");
  assert.equal(parseSettings(config({ interpreter: "${env:VENV}/bin/python" }), { VENV: "/opt/v" }, "/h").interpreter, "/opt/v/bin/python");
  assert.equal(expandPath("${userHome}/py", {}, "/h"), "/h/py");
  assert.equal(expandPath("${workspaceFolder}/py", {}, "/h"), "${workspaceFolder}/py", "workspace variables are not expanded");
});

test("wrong types fall back to defaults", () => {
  const s = parseSettings(config({ interpreter: 42, models: "gpt", "ssh.hosts": [1, "gpu-box", "", "gpu-box"], "progress.notifications": "no" }), {}, "/h");
  assert.equal(s.interpreter, undefined);
  assert.deepEqual(s.models, [...DEFAULT_MODELS]);
  assert.deepEqual(s.sshHosts, ["gpu-box"], "non-strings, blanks and duplicates dropped");
  assert.equal(s.progressNotifications, true);
});

test("runs directory cannot escape the workspace", () => {
  assert.equal(safeRunsDirectory("out/runs/"), "out/runs");
  assert.equal(safeRunsDirectory("./runs"), "runs");
  assert.equal(safeRunsDirectory("/etc"), "runs");
  assert.equal(safeRunsDirectory("C:\\runs"), "runs");
  assert.equal(safeRunsDirectory("../elsewhere"), "runs");
  assert.equal(safeRunsDirectory("a/../../b"), "runs");
  assert.equal(safeRunsDirectory(""), "runs");
});

test("base URL: http(s) only, trailing slash trimmed", () => {
  assert.equal(safeBaseUrl("https://llm.example.com/v1/"), "https://llm.example.com/v1");
  assert.equal(safeBaseUrl("http://localhost:8000/v1"), "http://localhost:8000/v1");
  assert.equal(safeBaseUrl("file:///etc/passwd"), undefined);
  assert.equal(safeBaseUrl("not a url"), undefined);
});

test("LSP trace follows the log level", () => {
  assert.equal(traceForLogLevel(1), "verbose"); // Trace
  assert.equal(traceForLogLevel(2), "messages"); // Debug
  assert.equal(traceForLogLevel(3), "off"); // Info
  assert.equal(traceForLogLevel(0), "off"); // Off
});
