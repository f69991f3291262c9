/**
 * The evaluation report the run view shows: `runs/<id>/eval/report.json` (shape documented in
 * extension/README-webview.md). `normalizeReport` validates and trims untrusted JSON into the
 * exact shape the webview renders; anything malformed is dropped, never thrown.
 *
 * Pure (no `vscode`).
 */

export interface ReportModel {
  id: string;
  label: string;
}

export interface ReportMetric {
  name: string;
  label: string;
  higherIsBetter: boolean;
  /** Value per model id (missing = not measured). */
  values: Record<string, number>;
}

export interface ReportQuestion {
  id: string;
  prompt: string;
  reference?: string;
  answers: Record<string, string>;
  scores: Record<string, number>;
  winner?: string;
  notes?: string;
}

export interface EvalReport {
  title?: string;
  created?: string;
  dataset?: string;
  models: ReportModel[];
  metrics: ReportMetric[];
  questions: ReportQuestion[];
  /** Questions dropped to keep the view responsive. */
  truncated: number;
}

export const MAX_QUESTIONS = 500;
const MAX_TEXT = 20000;

type Json = Record<string, unknown>;

function isObj(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function str(v: unknown, max = MAX_TEXT): string | undefined {
  if (typeof v === "string") {
    return v.length > max ? v.slice(0, max) + "…" : v;
  }
  if (typeof v === "number" || typeof v === "boolean") {
    return String(v);
  }
  return undefined;
}

function numMap(v: unknown, ids: Set<string>): Record<string, number> {
  const out: Record<string, number> = {};
  if (isObj(v)) {
    for (const [k, x] of Object.entries(v)) {
      if (ids.has(k) && typeof x === "number" && Number.isFinite(x)) {
        out[k] = x;
      }
    }
  }
  return out;
}

function strMap(v: unknown, ids: Set<string>): Record<string, string> {
  const out: Record<string, string> = {};
  if (isObj(v)) {
    for (const [k, x] of Object.entries(v)) {
      const s = str(x);
      if (ids.has(k) && s !== undefined) {
        out[k] = s;
      }
    }
  }
  return out;
}

function models(v: unknown): ReportModel[] {
  if (!Array.isArray(v)) {
    return [];
  }
  const out: ReportModel[] = [];
  for (const m of v) {
    if (typeof m === "string" && m) {
      out.push({ id: m, label: m });
    } else if (isObj(m)) {
      const id = str(m.id, 200);
      if (id) {
        out.push({ id, label: str(m.label, 200) ?? str(m.name, 200) ?? id });
      }
    }
  }
  const seen = new Set<string>();
  return out.filter((m) => (seen.has(m.id) ? false : (seen.add(m.id), true)));
}

/** Validate untrusted JSON into an EvalReport; undefined when it has no models. */
export function normalizeReport(raw: unknown): EvalReport | undefined {
  if (!isObj(raw)) {
    return undefined;
  }
  const ms = models(raw.models);
  if (ms.length === 0) {
    return undefined;
  }
  const ids = new Set(ms.map((m) => m.id));
  const metrics: ReportMetric[] = [];
  for (const m of Array.isArray(raw.metrics) ? raw.metrics : []) {
    if (!isObj(m)) {
      continue;
    }
    const name = str(m.name, 200);
    if (!name) {
      continue;
    }
    metrics.push({
      name,
      label: str(m.label, 200) ?? name,
      higherIsBetter: m.higher_is_better !== false,
      values: numMap(m.values, ids),
    });
  }
  const all = Array.isArray(raw.questions) ? raw.questions : [];
  const questions: ReportQuestion[] = [];
  for (const [i, q] of all.slice(0, MAX_QUESTIONS).entries()) {
    if (!isObj(q)) {
      continue;
    }
    const winner = str(q.winner, 200);
    questions.push({
      id: str(q.id, 200) ?? String(i + 1),
      prompt: str(q.prompt) ?? str(q.question) ?? "",
      reference: str(q.reference),
      answers: strMap(q.answers, ids),
      scores: numMap(q.scores, ids),
      winner: winner !== undefined && (ids.has(winner) || winner === "tie") ? winner : undefined,
      notes: str(q.notes),
    });
  }
  return {
    title: str(raw.title, 300),
    created: str(raw.created, 100),
    dataset: str(raw.dataset, 1000),
    models: ms,
    metrics,
    questions,
    truncated: Math.max(0, all.length - MAX_QUESTIONS),
  };
}

/** The model with the best value of a metric (undefined on ties or with fewer than 2 values). */
export function bestModel(metric: ReportMetric): string | undefined {
  const entries = Object.entries(metric.values);
  if (entries.length < 2) {
    return undefined;
  }
  const sorted = entries.sort((a, b) => (metric.higherIsBetter ? b[1] - a[1] : a[1] - b[1]));
  return sorted[0][1] === sorted[1][1] ? undefined : sorted[0][0];
}

/** Wins per model id (plus "tie") across questions. */
export function winCounts(report: EvalReport): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const q of report.questions) {
    if (q.winner) {
      counts[q.winner] = (counts[q.winner] ?? 0) + 1;
    }
  }
  return counts;
}
