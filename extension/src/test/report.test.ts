import { strict as assert } from "node:assert";
import { test } from "node:test";
import { MAX_QUESTIONS, bestModel, normalizeReport, winCounts } from "../report";
import { contentSecurityPolicy, escapeHtml, runViewHtml } from "../webview/html";
import { escapeCell, statsMarkdown } from "../markdown";

const sample = {
  title: "tiny-lora vs base",
  dataset: "eval.jsonl",
  models: [{ id: "A", label: "base" }, { id: "B", label: "fine-tuned" }],
  metrics: [
    { name: "exact_match", label: "Exact match", values: { A: 0.4, B: 0.7 } },
    { name: "eval_loss", higher_is_better: false, values: { A: 2.1, B: 1.3, Z: 9 } },
  ],
  questions: [
    { id: "q1", prompt: "2+2?", reference: "4", answers: { A: "5", B: "4" }, scores: { A: 0, B: 1 }, winner: "B" },
    { prompt: "<script>alert(1)</script>", answers: { A: "x", B: 7 }, winner: "nobody" },
    "garbage",
  ],
};

test("normalizes the documented shape", () => {
  const r = normalizeReport(sample);
  assert.ok(r);
  assert.deepEqual(r.models.map((m) => m.id), ["A", "B"]);
  assert.equal(r.metrics[1].label, "eval_loss");
  assert.equal(r.metrics[1].higherIsBetter, false);
  assert.deepEqual(r.metrics[1].values, { A: 2.1, B: 1.3 }, "unknown model ids dropped");
  assert.equal(r.questions.length, 2);
  assert.equal(r.questions[1].id, "2");
  assert.equal(r.questions[1].answers.B, "7");
  assert.equal(r.questions[1].winner, undefined, "a winner must be a model id or 'tie'");
  assert.equal(bestModel(r.metrics[0]), "B");
  assert.equal(bestModel(r.metrics[1]), "B");
  assert.deepEqual(winCounts(r), { B: 1 });
});

test("rejects what cannot be shown, caps questions", () => {
  assert.equal(normalizeReport(null), undefined);
  assert.equal(normalizeReport({ models: [] }), undefined);
  assert.equal(normalizeReport([1, 2]), undefined);
  const many = normalizeReport({ models: ["a", "a", "b"], questions: Array.from({ length: MAX_QUESTIONS + 5 }, (_, i) => ({ prompt: `q${i}` })) });
  assert.ok(many);
  assert.deepEqual(many.models.map((m) => m.id), ["a", "b"], "duplicates dropped; strings accepted");
  assert.equal(many.questions.length, MAX_QUESTIONS);
  assert.equal(many.truncated, 5);
});

test("webview shell: strict CSP with a nonce, escaped title", () => {
  const csp = contentSecurityPolicy("vscode-webview://abc", "N0nce");
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'nonce-N0nce'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  const html = runViewHtml({ cspSource: "vscode-webview://abc", scriptUri: "https://x/report.js", styleUri: "https://x/report.css", title: "Run <b>&", nonce: "N0nce" });
  assert.match(html, /<script nonce="N0nce" src="https:\/\/x\/report.js">/);
  assert.match(html, /Run &lt;b&gt;&amp;/);
  assert.equal((html.match(/<script/g) ?? []).length, 1, "no inline scripts");
  assert.equal(escapeHtml(`"'`), "&quot;&#39;");
});

test("stats markdown escapes cells", () => {
  assert.equal(escapeCell("a|b\n<c>"), "a\\|b &lt;c&gt;");
  const md = statsMarkdown("Stats", { examples: 1200, format: "chat", tokens: { min: 3, max: 10.5 }, total_tokens: null }, "tuneline stats d.jsonl");
  assert.match(md, /\| Examples \| 1,200 \|/);
  assert.match(md, /\| Tokens \| min 3, max 10.50 \|/);
  assert.match(md, /\| Total tokens \| – \|/);
});
