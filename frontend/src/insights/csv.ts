// CSV export of the numbers behind a chart or table, generated in the browser from
// exactly the rows shown. RFC 4180: comma-separated, CRLF line ends, a cell quoted
// when it holds a comma, a quote, a line break or edge spaces, quotes doubled. Text
// that a spreadsheet would run as a formula (=, +, -, @ at the start) gets a leading
// apostrophe; numbers are written as they are.

export interface Column {
  key: string;
  label: string;
}

/** The rows behind one chart or table, with their column headings. */
export interface Table {
  columns: Column[];
  rows: Record<string, unknown>[];
}

const FORMULA = /^[=+\-@\t\r]/;

export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : "";
  if (typeof value === "boolean") return value ? "true" : "false";
  let text = typeof value === "object" ? JSON.stringify(value) : String(value);
  if (FORMULA.test(text)) text = `'${text}`;
  if (/[",\r\n]/.test(text) || text !== text.trim()) return `"${text.replace(/"/g, '""')}"`;
  return text;
}

export function toCsv(table: Table): string {
  const lines = [table.columns.map((c) => csvCell(c.label)).join(",")];
  for (const row of table.rows) lines.push(table.columns.map((c) => csvCell(row[c.key])).join(","));
  return lines.join("\r\n") + "\r\n";
}

/** A file name safe on every system: letters, digits, dot, dash, underscore. */
export function csvFilename(...parts: string[]): string {
  const base = parts
    .filter(Boolean)
    .join("-")
    .replace(/[^A-Za-z0-9._-]+/g, "-")
    .replace(/-+/g, "-")
    .replace(/^-|-$/g, "");
  return `${base || "data"}.csv`;
}

export function downloadCsv(filename: string, table: Table): void {
  const blob = new Blob([toCsv(table)], { type: "text/csv;charset=utf-8" });
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  link.style.display = "none";
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
