const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** kubectl's AGE column: the largest unit that fits (`45s`, `12m`, `5h`, `3d`); `<unknown>` without a time. */
export function kubectlAge(since: string | undefined, now: number): string {
  const at = since === undefined ? Number.NaN : Date.parse(since);
  if (Number.isNaN(at)) return "<unknown>";
  const elapsed = Math.max(0, now - at);
  if (elapsed < 2 * MINUTE) return `${Math.floor(elapsed / SECOND)}s`;
  if (elapsed < 2 * HOUR) return `${Math.floor(elapsed / MINUTE)}m`;
  if (elapsed < 2 * DAY) return `${Math.floor(elapsed / HOUR)}h`;
  return `${Math.floor(elapsed / DAY)}d`;
}
