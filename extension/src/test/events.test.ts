import { strict as assert } from "node:assert";
import { test } from "node:test";
import { applyState, describeProgress, eventTime, formatDuration, lossSeries, parseEventChunk, summarize } from "../events";

const T = 1_700_000_000;
const lines = [
  { type: "start", time: T, run_id: "r1", kind: "train", model: "tiny", method: "lora" },
  { type: "progress", time: T + 1, step: 1, total: 4, loss: 2.5, learning_rate: 1e-4, tokens_per_second: 1500, eta_seconds: 30 },
  { type: "progress", time: T + 2, step: 2, total: 4, loss: 2.0, learning_rate: 1e-4, tokens_per_second: 1500, eta_seconds: 20 },
  { type: "metric", time: T + 2, step: 2, metrics: { eval_loss: 2.2 } },
  { type: "checkpoint", time: T + 2, step: 2, path: "checkpoints/step-000002" },
  { type: "progress", time: T + 3, step: 3, total: 4, loss: 1.5, learning_rate: 1e-4, tokens_per_second: 1500, eta_seconds: 10 },
].map((e) => JSON.stringify(e));

test("chunks: partial last line kept, bad lines counted", () => {
  const text = lines.join("\n") + "\nnot json\n[1]\n{\"no\":\"type\"}\n{\"type\":\"progress\",\"step\":4";
  const c = parseEventChunk(text);
  assert.equal(c.events.length, 6);
  assert.equal(c.badLines, 3);
  assert.equal(c.rest, '{"type":"progress","step":4');
  const next = parseEventChunk(c.rest + ',"loss":1.0}\n');
  assert.equal(next.events.length, 1);
  assert.equal(next.events[0].loss, 1.0);
});

test("summary of a running run", () => {
  const { events } = parseEventChunk(lines.join("\n") + "\n");
  const s = summarize(events, T + 4);
  assert.equal(s.status, "running");
  assert.deepEqual([s.step, s.total, s.loss, s.evalLoss, s.checkpoints, s.model, s.method, s.kind], [3, 4, 1.5, 2.2, 1, "tiny", "lora", "train"]);
  assert.equal(describeProgress(s), "3/4 · loss 1.500 · eval 2.200 · 1.5k tok/s · ETA 10s");
});

test("end / error / stale runs", () => {
  const { events } = parseEventChunk(lines.join("\n") + "\n");
  assert.equal(summarize([...events, { type: "end", time: T + 5, status: "completed" }], T + 6).status, "completed");
  assert.equal(summarize([...events, { type: "end", time: T + 5, status: "cancelled" }], T + 6).status, "cancelled");
  const failed = summarize([...events, { type: "error", time: T + 5, message: "CUDA out of memory" }], T + 6);
  assert.deepEqual([failed.status, failed.error], ["failed", "CUDA out of memory"]);
  assert.equal(summarize(events, T + 3 + 601).status, "interrupted");
  assert.equal(summarize([]).status, "pending");
});

test("state.json overrides; a running state with a dead pid is interrupted", () => {
  const { events } = parseEventChunk(lines.join("\n") + "\n");
  const s = summarize(events, T + 4);
  assert.equal(applyState(s, { state: "running", pid: 123 }, () => false).status, "interrupted");
  assert.equal(applyState(s, { state: "running", pid: 123 }, () => true).status, "running");
  assert.equal(applyState(s, { state: "cancelled" }, () => true).status, "cancelled");
  assert.deepEqual(applyState(s, { state: "failed", error: "boom" }, () => true).error, "boom");
  assert.equal(applyState(s, undefined, () => true), s);
});

test("loss series by step; eval loss from metrics", () => {
  const { events } = parseEventChunk(lines.join("\n") + "\n");
  const series = lossSeries(events);
  assert.deepEqual(series.loss.map((p) => [p.step, p.value]), [[1, 2.5], [2, 2.0], [3, 1.5]]);
  assert.deepEqual(series.evalLoss, [{ step: 2, value: 2.2 }]);
  // Tolerated: eval_loss at top level; progress without a step counts on.
  const loose = lossSeries([{ type: "progress", loss: 3 }, { type: "progress", loss: 2 }, { type: "metric", eval_loss: 2.5 }]);
  assert.deepEqual(loose.loss.map((p) => p.step), [1, 2]);
  assert.deepEqual(loose.evalLoss, [{ step: 2, value: 2.5 }]);
});

test("times and durations", () => {
  assert.equal(eventTime(T), T);
  assert.equal(eventTime(T * 1000), T);
  assert.equal(eventTime("2024-01-01T00:00:00Z"), 1704067200);
  assert.equal(eventTime("nope"), undefined);
  assert.equal(formatDuration(59), "59s");
  assert.equal(formatDuration(125), "2m 5s");
  assert.equal(formatDuration(3700), "1h 1m");
});
