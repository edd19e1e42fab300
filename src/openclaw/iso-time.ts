/**
 * `Date.parse` for transcript timestamps, cheaper for the shape OpenClaw writes
 * (`toISOString()`: `YYYY-MM-DDTHH:MM:SS.sssZ`). Consecutive lines share their hour, so the
 * hour is parsed once by `Date.parse` and cached, and minutes, seconds and milliseconds are
 * added from the digits. Anything else (offsets, other precisions, hour 24, odd text) goes to
 * `Date.parse` itself, so the result is always the same as `Date.parse(s)`.
 */

// the last hour seen: YYYYMMDDHH as a number, and Date.parse of `YYYY-MM-DDTHH:00:00.000Z`
let cachedHour = -1;
let cachedHourMs = Number.NaN;

/** the value of `count` ASCII digits at `at`, or -1 */
function digits(s: string, at: number, count: number): number {
  let v = 0;
  for (let i = at; i < at + count; i++) {
    const d = s.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

function hasIsoSeparators(s: string): boolean {
  return (
    s.length === 24 &&
    s.charCodeAt(4) === 0x2d && // -
    s.charCodeAt(7) === 0x2d && // -
    s.charCodeAt(10) === 0x54 && // T
    s.charCodeAt(13) === 0x3a && // :
    s.charCodeAt(16) === 0x3a && // :
    s.charCodeAt(19) === 0x2e && // .
    s.charCodeAt(23) === 0x5a // Z
  );
}

export function parseIsoTime(s: string): number {
  if (!hasIsoSeparators(s)) return Date.parse(s);
  const year = digits(s, 0, 4);
  const month = digits(s, 5, 2);
  const day = digits(s, 8, 2);
  const hour = digits(s, 11, 2);
  const minute = digits(s, 14, 2);
  const second = digits(s, 17, 2);
  const ms = digits(s, 20, 3);
  // Date.parse decides which dates exist (it rolls 02-30 over, rejects month 13): the hour's
  // Date.parse does that part; the rest only has to be in range
  if ((year | month | day | hour | minute | second | ms) < 0 || hour > 23 || minute > 59 || second > 59)
    return Date.parse(s);
  const key = ((year * 100 + month) * 100 + day) * 100 + hour;
  if (key !== cachedHour) {
    cachedHour = key;
    cachedHourMs = Date.parse(`${s.slice(0, 13)}:00:00.000Z`);
  }
  if (Number.isNaN(cachedHourMs)) return Date.parse(s);
  return cachedHourMs + minute * 60_000 + second * 1000 + ms;
}
