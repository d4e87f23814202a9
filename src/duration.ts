const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses "30d", "12h", "90m", "45s" (or a sum such as "1d12h") into milliseconds. */
export function parseDuration(text: string, field: string): number {
  const parts = [...text.matchAll(/(\d+)([smhd])/g)];
  const consumed = parts.map((part) => part[0]).join("");
  if (parts.length === 0 || consumed !== text) {
    throw new Error(`${field}: "${text}" is not a duration; use a number with s, m, h or d, such as 30d or 12h`);
  }
  return parts.reduce((sum, part) => sum + Number(part[1]) * (UNIT_MS[part[2] ?? "s"] ?? 0), 0);
}
