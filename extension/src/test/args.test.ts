import { strict as assert } from "node:assert";
import { test } from "node:test";
import {
  ChoiceError,
  buildAugmentCall,
  buildCancelCall,
  buildEvaluateCall,
  buildLintWorkspaceCall,
  buildStatsCall,
  buildTrainCall,
  displayCommandLine,
  methodsFor,
  parseTargetId,
  targetId,
  withLastFirst,
} from "../args";

test("train: local LoRA", () => {
  const c = buildTrainCall({ dataset: "/w/train.jsonl", model: "Qwen/Qwen2.5-0.5B-Instruct", method: "lora", target: { kind: "local" }, workspaceFolder: "/w" });
  assert.equal(c.command, "tuneline.train");
  assert.deepEqual(c.argument, { dataset: "/w/train.jsonl", model: "Qwen/Qwen2.5-0.5B-Instruct", method: "lora", target: "local", workspace: "/w", wait: false });
  assert.deepEqual(c.cli, ["train", "/w/train.jsonl", "--model", "Qwen/Qwen2.5-0.5B-Instruct", "--method", "lora", "--target", "local"]);
});

test("train: ssh host travels as its own argument", () => {
  const c = buildTrainCall({ dataset: "/w/d.jsonl", model: "m", method: "qlora", target: { kind: "ssh", host: "gpu-box" } });
  assert.equal(c.argument.host, "gpu-box");
  assert.deepEqual(c.cli.slice(-4), ["--target", "ssh", "--host", "gpu-box"]);
});

test("train: rejects option-like or blank hosts and mismatched methods", () => {
  assert.throws(() => buildTrainCall({ dataset: "/d", model: "m", method: "lora", target: { kind: "ssh", host: "-oProxyCommand=x" } }), ChoiceError);
  assert.throws(() => buildTrainCall({ dataset: "/d", model: "m", method: "lora", target: { kind: "ssh", host: "a b" } }), ChoiceError);
  assert.throws(() => buildTrainCall({ dataset: "/d", model: "m", method: "lora", target: { kind: "ssh" } }), ChoiceError);
  assert.throws(() => buildTrainCall({ dataset: "/d", model: "gpt-4o-mini", method: "lora", target: { kind: "openai" } }), ChoiceError);
  assert.throws(() => buildTrainCall({ dataset: "/d", model: "m", method: "openai", target: { kind: "local" } }), ChoiceError);
  assert.throws(() => buildTrainCall({ dataset: "", model: "m", method: "lora", target: { kind: "local" } }), ChoiceError);
  assert.throws(() => buildTrainCall({ dataset: "/d", model: " ", method: "lora", target: { kind: "local" } }), ChoiceError);
});

test("methods per target", () => {
  assert.deepEqual(methodsFor("openai").map((m) => m.id), ["openai"]);
  assert.deepEqual(methodsFor("local").map((m) => m.id), ["lora", "qlora", "full"]);
  assert.deepEqual(methodsFor("ssh").map((m) => m.id), ["lora", "qlora", "full"]);
});

test("evaluate: a run against its base model", () => {
  const c = buildEvaluateCall({ dataset: "/w/eval.jsonl", runId: "20250101-lora-ab12", model: "base", target: { kind: "local" } });
  assert.deepEqual(c.argument, { dataset: "/w/eval.jsonl", model: "base", target: "local", wait: false, run_id: "20250101-lora-ab12" });
  assert.deepEqual(c.cli, ["eval", "/w/eval.jsonl", "--model", "base", "--target", "local", "--run", "20250101-lora-ab12"]);
});

test("augment: 0-based line to the server, 1-based on the CLI; bounds checked", () => {
  const c = buildAugmentCall("/w/d.jsonl", "file:///w/d.jsonl", 4, 3);
  assert.deepEqual(c.argument, { uri: "file:///w/d.jsonl", line: 4, count: 3 });
  assert.deepEqual(c.cli, ["augment", "/w/d.jsonl", "--line", "5", "--count", "3"]);
  assert.throws(() => buildAugmentCall("/d", "file:///d", -1, 1), ChoiceError);
  assert.throws(() => buildAugmentCall("/d", "file:///d", 0, 0), ChoiceError);
  assert.throws(() => buildAugmentCall("/d", "file:///d", 0, 51), ChoiceError);
  assert.throws(() => buildAugmentCall("/d", "file:///d", 1.5, 1), ChoiceError);
});

test("stats, lint, cancel", () => {
  assert.deepEqual(buildStatsCall("/w/d.jsonl", "file:///w/d.jsonl"), { command: "tuneline.datasetStats", argument: { uri: "file:///w/d.jsonl" }, cli: ["stats", "/w/d.jsonl"] });
  assert.deepEqual(buildLintWorkspaceCall([]).cli, ["lint", "."]);
  assert.deepEqual(buildLintWorkspaceCall(["/a", "/b"]).argument, { folders: ["/a", "/b"] });
  assert.deepEqual(buildCancelCall("r1").argument, { run_id: "r1" });
  assert.throws(() => buildCancelCall(""), ChoiceError);
});

test("display quoting (logs only) single-quotes what a shell would split", () => {
  assert.equal(displayCommandLine(["train", "/w/my data.jsonl", "--model", "a/b"]), "train '/w/my data.jsonl' --model a/b");
  assert.equal(displayCommandLine(["x", "it's"]), "x 'it'\\''s'");
});

test("last choice first, otherwise unchanged", () => {
  const items = ["a", "b", "c"];
  assert.deepEqual(withLastFirst(items, "c", (x) => x), ["c", "a", "b"]);
  assert.deepEqual(withLastFirst(items, "zzz", (x) => x), ["a", "b", "c"]);
  assert.deepEqual(withLastFirst(items, undefined, (x) => x), ["a", "b", "c"]);
});

test("target ids round-trip", () => {
  for (const t of [{ kind: "local" as const }, { kind: "openai" as const }, { kind: "ssh" as const, host: "gpu" }]) {
    assert.deepEqual(parseTargetId(targetId(t)), t);
  }
  assert.throws(() => parseTargetId("ftp"), ChoiceError);
});
