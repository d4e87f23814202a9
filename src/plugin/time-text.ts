// Times as a person reads them in a table: a fixed UTC instant, or how long ago.

/** `2026-11-29 06:00 UTC`. */
export function utcMinute(iso: string | undefined): string {
  if (iso === undefined) return "";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

const UNITS: [number, string][] = [
  [24 * 60 * 60 * 1000, "d"],
  [60 * 60 * 1000, "h"],
  [60 * 1000, "m"],
  [1000, "s"],
];

/** kubectl's age, coarsest unit first: `3d`, `5h`, `12m`, `40s`. */
export function age(ms: number): string {
  const clamped = Math.max(0, ms);
  const [unit, suffix] = UNITS.find(([size]) => clamped >= size) ?? [1000, "s"];
  return `${Math.floor(clamped / unit)}${suffix}`;
}

/** `5h ago`, from now; `in 3d` for a future instant (a recycle bin's expiry). */
export function relative(iso: string | undefined, now: Date): string {
  if (iso === undefined) return "";
  const delta = now.getTime() - Date.parse(iso);
  return delta >= 0 ? `${age(delta)} ago` : `in ${age(-delta)}`;
}
