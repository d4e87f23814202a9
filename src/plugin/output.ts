import { stringify } from "yaml";
import type { OutputFormat } from "./command.js";

const GAP = "   ";

/** kubectl's table: upper-case headers, columns padded to their widest cell, three spaces apart. */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [headers.map((header) => header.toUpperCase()), ...rows];
  const widths = headers.map((_, column) => Math.max(...all.map((row) => (row[column] ?? "").length)));
  const line = (row: readonly string[]): string =>
    row
      .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join(GAP)
      .trimEnd();
  return all.map(line).join("\n") + "\n";
}

/** One object as itself, several as kubectl's `List`, in JSON or YAML. */
export function renderObjects(format: Exclude<OutputFormat, "wide">, objects: readonly object[], single: boolean): string {
  const value = single && objects.length === 1 ? objects[0] : { apiVersion: "v1", kind: "List", items: objects, metadata: { resourceVersion: "" } };
  return format === "json" ? JSON.stringify(value, null, 4) + "\n" : stringify(value);
}
