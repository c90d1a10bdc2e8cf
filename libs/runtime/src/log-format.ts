/**
 * One readable line per log entry for a person at a terminal:
 * `12:03:04.567 INFO  [crowdlens] CrowdLens started role=embedded url=http://…`.
 * Only used when stdout is a TTY and no destination was given; pipes, files
 * and tests keep pino's JSON lines (pino-pretty is not a dependency).
 */
import type { DestinationStream } from 'pino';

const LEVELS: Readonly<Record<number, string>> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};

/** pino's own fields, shown in the line's head or dropped. */
const HEAD_KEYS = new Set(['level', 'time', 'name', 'msg', 'pid', 'hostname']);

const pad2 = (n: number): string => String(n).padStart(2, '0');

function clock(time: unknown): string {
  if (typeof time !== 'number') return '--:--:--.---';
  const d = new Date(time);
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

/** Bare when unambiguous; otherwise JSON, which also escapes newlines so a stack trace stays on one line. */
function formatValue(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  if (value !== null && typeof value === 'object' && 'message' in value && typeof value.message === 'string') {
    // A serialised Error ({type, message, stack}): the message is what a reader needs on the line.
    return JSON.stringify(value.message);
  }
  return JSON.stringify(value) ?? String(value);
}

/** Formats one pino JSON line; anything that is not a JSON object passes through unchanged. */
export function formatLogLine(line: string): string {
  let entry: unknown;
  try {
    entry = JSON.parse(line);
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`;
  }
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) return `${line.trimEnd()}\n`;
  const fields = entry as Record<string, unknown>;
  const level = typeof fields.level === 'number' ? (LEVELS[fields.level] ?? String(fields.level)) : 'INFO';
  const name = typeof fields.name === 'string' ? ` [${fields.name}]` : '';
  const msg = typeof fields.msg === 'string' ? ` ${fields.msg}` : '';
  const rest = Object.entries(fields)
    .filter(([k, v]) => !HEAD_KEYS.has(k) && v !== undefined)
    .map(([k, v]) => ` ${k}=${formatValue(v)}`)
    .join('');
  return `${clock(fields.time)} ${level.padEnd(5)}${name}${msg}${rest}\n`;
}

/** A pino destination that writes formatted lines to `out` (a TTY's stdout). */
export function prettyDestination(out: { write(text: string): unknown }): DestinationStream {
  return { write: (line: string) => void out.write(formatLogLine(line)) };
}
