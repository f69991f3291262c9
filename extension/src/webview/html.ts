/**
 * The run view's HTML shell. Everything dynamic is rendered by media/report.js from posted
 * messages (textContent / DOM APIs only), so the shell holds no run data and the content security
 * policy can forbid inline script and style: scripts need the per-load nonce, styles come from
 * the extension's media folder only.
 *
 * Pure (no `vscode`): the caller passes the webview's `cspSource` and resource URIs as strings.
 */
import { randomBytes } from "node:crypto";

export interface ShellOptions {
  /** `webview.cspSource`. */
  cspSource: string;
  scriptUri: string;
  styleUri: string;
  title: string;
  nonce?: string;
}

export function makeNonce(): string {
  return randomBytes(18).toString("base64").replace(/[^A-Za-z0-9]/g, "");
}

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `style-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
    `img-src ${cspSource} data:`,
    `font-src ${cspSource}`,
    "connect-src 'none'",
    "form-action 'none'",
    "base-uri 'none'",
  ].join("; ");
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] as string);
}

export function runViewHtml(o: ShellOptions): string {
  const nonce = o.nonce ?? makeNonce();
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(contentSecurityPolicy(o.cspSource, nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="${escapeHtml(o.styleUri)}">
<title>${escapeHtml(o.title)}</title>
</head>
<body>
<header>
  <h1 id="title">${escapeHtml(o.title)}</h1>
  <p id="status" class="status" role="status" aria-live="polite">Loading…</p>
</header>
<section id="chart-section" aria-labelledby="chart-heading">
  <h2 id="chart-heading">Loss</h2>
  <div id="chart" class="chart" role="img" aria-label="Training and evaluation loss by step"></div>
  <ul id="legend" class="legend"></ul>
</section>
<section id="report-section" aria-labelledby="report-heading" hidden>
  <h2 id="report-heading">Evaluation</h2>
  <div id="report-meta" class="meta"></div>
  <table id="metrics" class="metrics"></table>
  <h3>Per-question answers</h3>
  <div id="questions" class="questions"></div>
</section>
<script nonce="${nonce}" src="${escapeHtml(o.scriptUri)}"></script>
</body>
</html>`;
}
