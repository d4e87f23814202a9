/** All three clouds accept a request time within 15 minutes of the server clock. */
export const MAX_SKEW_MS = 15 * 60 * 1000;

const COMPACT_UTC = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
const ISO_UTC = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/;

function toEpochMs(match: RegExpExecArray | null): number | undefined {
  if (match === null) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number) as [number, number, number, number, number, number];
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  // Date.UTC rolls 31 February over into March; a real timestamp survives the round trip.
  const back = new Date(ms);
  const exact = back.getUTCMonth() === month - 1 && back.getUTCDate() === day && back.getUTCHours() === hour && back.getUTCMinutes() === minute && back.getUTCSeconds() === second;
  return exact ? ms : undefined;
}

/** `YYYYMMDDTHHMMSSZ` (X-Amz-Date, X-Sdk-Date). */
export function parseCompactUtc(value: string): number | undefined {
  return toEpochMs(COMPACT_UTC.exec(value));
}

/** `yyyy-MM-ddTHH:mm:ssZ` (x-acs-date). */
export function parseIsoUtc(value: string): number | undefined {
  return toEpochMs(ISO_UTC.exec(value));
}

/** The `YYYYMMDDTHHMMSSZ` form of an instant, for signers. */
export function formatCompactUtc(at: Date): string {
  return at.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
}
