// Durations as netwatch writes them everywhere: hours, minutes and seconds (`30m`, `2h`, `1h30m`, `90s`), the
// spec's `unlimited` and the flags' `never`. One parser for the webhook's checks, the controller's expiry and
// flags, the web UI's configuration and the plugin, so a duration one of them accepts means the same to the others.
import { FINITE_DURATION_PATTERN, UNLIMITED_DURATION } from '../api/accessrequest.ts';

/** The longest duration text read: the CRD's maxLength for spec.duration. */
const MAX_TEXT_LENGTH = 32;

const FINITE = new RegExp(`^${FINITE_DURATION_PATTERN}$`);

/** Words a flag accepts for "no time limit" where it allows one (the spec's word is `unlimited`). */
export const NEVER_WORDS: readonly string[] = ['never', 'forever'];

/**
 * Milliseconds of a duration such as `30m`, `2h`, `1h30m`, `90s`; `'unlimited'` for the unlimited literal;
 * `null` when the text is not a duration (empty, unknown units, out of range).
 */
export function parseDuration(text: string): number | typeof UNLIMITED_DURATION | null {
  if (text === UNLIMITED_DURATION) return UNLIMITED_DURATION;
  if (text.length === 0 || text.length > MAX_TEXT_LENGTH) return null;
  const m = FINITE.exec(text);
  if (!m) return null;
  // Each group is a number followed by its unit (`90m`): parseInt stops at the unit.
  const [h, min, s] = [m[1], m[2], m[3]].map((part) => (part === undefined ? 0 : parseInt(part, 10))) as [number, number, number];
  const ms = (h * 3600 + min * 60 + s) * 1000;
  return Number.isSafeInteger(ms) ? ms : null;
}

/**
 * Whole seconds of a stored spec.duration, null for `unlimited`; throws on anything else. For code that reads a
 * spec the API server and webhook already accepted (the controller, previews), where a bad value is a failure to
 * report, not input to correct.
 */
export function durationSeconds(text: string): number | null {
  const ms = parseDuration(text);
  if (ms === UNLIMITED_DURATION) return null;
  if (ms === null) throw new Error(`invalid duration ${JSON.stringify(text)}`);
  return ms / 1000;
}

/** Whether a flag's value means "no time limit". */
export function isNever(text: string): boolean {
  return NEVER_WORDS.includes(text);
}

/**
 * Why `text` is not a duration, when a likely intent is recognisable (days), for messages that already say what a
 * duration looks like; undefined otherwise.
 */
export function durationHint(text: string): string | undefined {
  const days = /^(\d{1,6})d$/.exec(text);
  return days ? `has days, which are not supported: write ${Number(days[1]) * 24}h` : undefined;
}

/** `5400000` → `1h30m`; the inverse of parseDuration for positive whole seconds. */
export function formatDuration(ms: number): string {
  let s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const out = `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${s ? `${s}s` : ''}`;
  return out || '0s';
}
