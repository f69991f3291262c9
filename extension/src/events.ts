/**
 * The run folder contract, read side: `runs/<id>/events.jsonl` holds one JSON object a line,
 * `{"type": "start|progress|metric|checkpoint|log|end|error", "time": ...}`. `progress` carries
 * step, total, loss, learning_rate, tokens_per_second, eta_seconds; `metric` carries
 * `{"step", "metrics": {"eval_loss", ...}}` (server/tuneline/jobs/events.py is the writer).
 *
 * Pure (no `vscode`): parsing is incremental (a partial last line is kept for the next read) and
 * tolerant (bad lines are counted, not fatal).
 */

export type EventType = "start" | "progress" | "metric" | "checkpoint" | "log" | "end" | "error";

export interface RunEvent {
  type: EventType | string;
  time?: number | string;
  [key: string]: unknown;
}

export interface ParsedChunk {
  events: RunEvent[];
  /** Bytes of an unfinished last line, to prepend to the next chunk. */
  rest: string;
  badLines: number;
}

/** Split a chunk of events.jsonl into events; keeps an unterminated last line in `rest`. */
export function parseEventChunk(text: string): ParsedChunk {
  const lines = text.split("\n");
  const rest = lines.pop() ?? "";
  const events: RunEvent[] = [];
  let badLines = 0;
  for (const raw of lines) {
    const line = raw.trim();
    if (!line) {
      continue;
    }
    try {
      const value: unknown = JSON.parse(line);
      if (value && typeof value === "object" && !Array.isArray(value) && typeof (value as RunEvent).type === "string") {
        events.push(value as RunEvent);
      } else {
        badLines++;
      }
    } catch {
      badLines++;
    }
  }
  return { events, rest, badLines };
}

export type RunStatus = "running" | "completed" | "failed" | "cancelled" | "interrupted" | "pending";

export interface RunSummary {
  status: RunStatus;
  step?: number;
  total?: number;
  loss?: number;
  evalLoss?: number;
  learningRate?: number;
  tokensPerSecond?: number;
  etaSeconds?: number;
  model?: string;
  method?: string;
  dataset?: string;
  kind?: string;
  name?: string;
  started?: number;
  ended?: number;
  error?: string;
  checkpoints: number;
  lastMessage?: string;
}

export interface Point {
  step: number;
  value: number;
}

export interface Series {
  loss: Point[];
  evalLoss: Point[];
}

function num(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

/** A metric event's numbers: `metrics: {...}` (the contract), or top-level fields (tolerated). */
function metricValue(e: RunEvent, name: string): number | undefined {
  const m = e.metrics;
  if (m && typeof m === "object" && !Array.isArray(m)) {
    const v = num((m as Record<string, unknown>)[name]);
    if (v !== undefined) {
      return v;
    }
  }
  return num(e[name]);
}

function text(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}

/** Seconds since the epoch from a number (s or ms) or an ISO string. */
export function eventTime(v: unknown): number | undefined {
  const n = num(v);
  if (n !== undefined) {
    return n > 1e12 ? n / 1000 : n;
  }
  const s = text(v);
  if (s !== undefined) {
    const t = Date.parse(s);
    return Number.isNaN(t) ? undefined : t / 1000;
  }
  return undefined;
}

/**
 * Fold events into a summary. `staleAfterSeconds`: a run with no end event whose last event is
 * older than this (relative to `now`) is "interrupted" rather than "running".
 */
export function summarize(events: readonly RunEvent[], now = Date.now() / 1000, staleAfterSeconds = 600): RunSummary {
  const s: RunSummary = { status: events.length ? "running" : "pending", checkpoints: 0 };
  let last: number | undefined;
  for (const e of events) {
    const t = eventTime(e.time);
    last = t ?? last;
    switch (e.type) {
      case "start":
        s.started = t;
        s.model = text(e.model) ?? text((e.config as Record<string, unknown> | undefined)?.model) ?? s.model;
        s.method = text(e.method) ?? s.method;
        s.dataset = text(e.dataset) ?? s.dataset;
        s.kind = text(e.kind) ?? text(e.job) ?? s.kind;
        s.name = text(e.name) ?? s.name;
        s.total = num(e.total) ?? num(e.total_steps) ?? s.total;
        break;
      case "progress":
        s.step = num(e.step) ?? s.step;
        s.total = num(e.total) ?? s.total;
        s.loss = num(e.loss) ?? s.loss;
        s.learningRate = num(e.learning_rate) ?? s.learningRate;
        s.tokensPerSecond = num(e.tokens_per_second) ?? s.tokensPerSecond;
        s.etaSeconds = num(e.eta_seconds) ?? s.etaSeconds;
        break;
      case "metric":
        s.evalLoss = metricValue(e, "eval_loss") ?? s.evalLoss;
        break;
      case "checkpoint":
        s.checkpoints++;
        break;
      case "log":
        s.lastMessage = text(e.message) ?? s.lastMessage;
        break;
      case "end": {
        s.ended = t;
        const status = text(e.status);
        s.status = status === "cancelled" || status === "canceled" ? "cancelled" : status === "failed" ? "failed" : "completed";
        s.error = s.status === "failed" ? text(e.error) ?? text(e.message) ?? s.error : s.error;
        s.loss = num(e.loss) ?? num(e.final_loss) ?? s.loss;
        break;
      }
      case "error":
        s.ended = t;
        s.status = "failed";
        s.error = text(e.message) ?? text(e.error) ?? "failed";
        break;
    }
  }
  if (s.status === "running" && last !== undefined && now - last > staleAfterSeconds) {
    s.status = "interrupted";
  }
  return s;
}

/** `runs/<id>/state.json` (written by the job): authoritative state when present. */
export interface RunStateFile {
  kind?: string;
  state?: string;
  name?: string;
  pid?: number;
  step?: number;
  total?: number;
  error?: string;
}

/**
 * Lay state.json over the events' summary. `pidAlive` tells whether a "running" job's process
 * still exists (a running state with a dead process means the job was killed).
 */
export function applyState(s: RunSummary, state: RunStateFile | undefined, pidAlive: (pid: number) => boolean): RunSummary {
  if (!state || typeof state !== "object") {
    return s;
  }
  const out: RunSummary = { ...s };
  out.kind = text(state.kind) ?? out.kind;
  out.name = text(state.name) ?? out.name;
  out.step = out.step ?? num(state.step);
  out.total = out.total ?? num(state.total);
  const st = text(state.state);
  if (st === "completed" || st === "failed" || st === "cancelled") {
    out.status = st;
    out.error = st === "failed" ? text(state.error) ?? out.error : out.error;
  } else if ((st === "running" || st === "starting") && out.status !== "completed" && out.status !== "failed" && out.status !== "cancelled") {
    const pid = num(state.pid);
    out.status = pid !== undefined && !pidAlive(pid) ? "interrupted" : st === "starting" ? "pending" : "running";
  }
  return out;
}

/** Loss and eval-loss curves by step. Points without a step use the running count. */
export function lossSeries(events: readonly RunEvent[]): Series {
  const loss: Point[] = [];
  const evalLoss: Point[] = [];
  let lastStep = 0;
  for (const e of events) {
    const step = num(e.step) ?? num(e.global_step);
    if (e.type === "progress") {
      const s = step ?? lastStep + 1;
      lastStep = s;
      const v = num(e.loss);
      if (v !== undefined) {
        loss.push({ step: s, value: v });
      }
    } else if (e.type === "metric") {
      const s = step ?? lastStep;
      const v = metricValue(e, "eval_loss");
      if (v !== undefined) {
        evalLoss.push({ step: s, value: v });
      }
    }
  }
  return { loss, evalLoss };
}

/** "12/100 · loss 1.234 · 3.2k tok/s · ETA 4m" */
export function describeProgress(s: RunSummary): string {
  const parts: string[] = [];
  if (s.step !== undefined) {
    parts.push(s.total ? `${s.step}/${s.total}` : `step ${s.step}`);
  }
  if (s.loss !== undefined) {
    parts.push(`loss ${s.loss.toFixed(3)}`);
  }
  if (s.evalLoss !== undefined) {
    parts.push(`eval ${s.evalLoss.toFixed(3)}`);
  }
  if (s.tokensPerSecond !== undefined) {
    parts.push(`${formatCount(s.tokensPerSecond)} tok/s`);
  }
  if (s.status === "running" && s.etaSeconds !== undefined) {
    parts.push(`ETA ${formatDuration(s.etaSeconds)}`);
  }
  return parts.join(" · ");
}

export function formatCount(n: number): string {
  if (n >= 1e6) {
    return `${(n / 1e6).toFixed(1)}M`;
  }
  if (n >= 1e3) {
    return `${(n / 1e3).toFixed(1)}k`;
  }
  return String(Math.round(n));
}

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) {
    return `${s}s`;
  }
  if (s < 3600) {
    return `${Math.floor(s / 60)}m${s % 60 ? ` ${s % 60}s` : ""}`;
  }
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}
