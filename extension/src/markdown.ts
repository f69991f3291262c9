/**
 * Markdown rendering of server results shown in the editor (dataset stats). Pure (no `vscode`).
 * Values come from the server, so table cells are escaped.
 */

export function escapeCell(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/\|/g, "\\|").replace(/[<>]/g, (c) => (c === "<" ? "&lt;" : "&gt;")).replace(/\r?\n/g, " ");
}

function label(key: string): string {
  const s = key.replace(/_/g, " ");
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function cell(value: unknown): string {
  if (value === null || value === undefined) {
    return "–";
  }
  if (typeof value === "number") {
    return Number.isInteger(value) ? value.toLocaleString("en-US") : value.toFixed(2);
  }
  if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) {
      return "–";
    }
    return entries.map(([k, v]) => `${k} ${cell(v)}`).join(", ");
  }
  return String(value);
}

/** A two-column table of a summary object (nested objects become "k v, k v"). */
export function statsMarkdown(title: string, summary: Record<string, unknown>, cli: string): string {
  const rows = Object.entries(summary).map(([k, v]) => `| ${escapeCell(label(k))} | ${escapeCell(cell(v))} |`);
  return [
    `# ${escapeCell(title)}`,
    "",
    "| | |",
    "|---|---|",
    ...rows,
    "",
    `Same in a terminal: \`${cli.replace(/`/g, "'")}\``,
    "",
  ].join("\n");
}
