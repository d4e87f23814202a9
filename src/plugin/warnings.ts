// The API server returns admission warnings as HTTP Warning headers (RFC 7234: `299 - "text"`,
// several joined by commas); kubectl prints each as `Warning: text`, and so does the plugin.

const WARNING = /\d{3} \S+ "((?:[^"\\]|\\.)*)"/g;

/** The warning texts of a Warning header value, unquoted. */
export function parseWarningHeader(value: string): string[] {
  return [...value.matchAll(WARNING)].map((match) => (match[1] ?? "").replace(/\\(.)/g, "$1"));
}

/** The warnings of a response's headers (the client lower-cases header names). */
export function warningsOf(headers: Record<string, string>): string[] {
  const value = headers.warning;
  return value === undefined ? [] : parseWarningHeader(value);
}

export function printWarnings(warnings: readonly string[]): void {
  for (const warning of warnings) process.stderr.write(`Warning: ${warning}\n`);
}
