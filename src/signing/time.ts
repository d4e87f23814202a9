/** All three clouds accept a request time within 15 minutes of the server clock. */
export const MAX_SKEW_MS = 15 * 60 * 1000;

const DIGIT_0 = 0x30;

/** The decimal value of `length` ASCII digits at `start`, or -1 if any of them is not a digit. */
function digits(value: string, start: number, length: number): number {
  let result = 0;
  for (let i = start; i < start + length; i++) {
    const digit = value.charCodeAt(i) - DIGIT_0;
    if (!(digit >= 0 && digit <= 9)) return -1;
    result = result * 10 + digit;
  }
  return result;
}

interface Fields {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysIn(year: number, month: number): number {
  return month === 2 && isLeapYear(year) ? 29 : (DAYS_IN_MONTH[month - 1] as number);
}

/**
 * The instant, when every field is in its range (Date.UTC would silently roll 31 February over
 * into March). Date.UTC reads years 0-99 as 1900-1999, so their calendar is checked that way too.
 */
function isTimeOfDay({ hour, minute, second }: Fields): boolean {
  return hour >= 0 && hour <= 23 && minute >= 0 && minute <= 59 && second >= 0 && second <= 59;
}

function isCalendarDay({ year, month, day }: Fields): boolean {
  if (year < 0 || month < 1 || month > 12) return false;
  const calendarYear = year <= 99 ? 1900 + year : year;
  return day >= 1 && day <= daysIn(calendarYear, month);
}

function toEpochMs(fields: Fields): number | undefined {
  if (!isCalendarDay(fields) || !isTimeOfDay(fields)) return undefined;
  const { year, month, day, hour, minute, second } = fields;
  return Date.UTC(year, month - 1, day, hour, minute, second);
}

const T = 0x54;
const Z = 0x5a;
const DASH = 0x2d;
const COLON = 0x3a;

/** `YYYYMMDDTHHMMSSZ` (X-Amz-Date, X-Sdk-Date). */
export function parseCompactUtc(value: string): number | undefined {
  if (value.length !== 16 || value.charCodeAt(8) !== T || value.charCodeAt(15) !== Z) return undefined;
  return toEpochMs({
    year: digits(value, 0, 4),
    month: digits(value, 4, 2),
    day: digits(value, 6, 2),
    hour: digits(value, 9, 2),
    minute: digits(value, 11, 2),
    second: digits(value, 13, 2),
  });
}

function hasIsoSeparators(value: string): boolean {
  return value.charCodeAt(4) === DASH && value.charCodeAt(7) === DASH && value.charCodeAt(10) === T && value.charCodeAt(13) === COLON && value.charCodeAt(16) === COLON;
}

/** `yyyy-MM-ddTHH:mm:ssZ` (x-acs-date). */
export function parseIsoUtc(value: string): number | undefined {
  if (value.length !== 20 || !hasIsoSeparators(value) || value.charCodeAt(19) !== Z) return undefined;
  return toEpochMs({
    year: digits(value, 0, 4),
    month: digits(value, 5, 2),
    day: digits(value, 8, 2),
    hour: digits(value, 11, 2),
    minute: digits(value, 14, 2),
    second: digits(value, 17, 2),
  });
}
