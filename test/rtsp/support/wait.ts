import { execFileSync } from 'node:child_process';
import pino, { type Logger } from 'pino';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `check` returns something truthy. */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | null | false,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

/** ffmpeg processes started by this test process: pid and command line. */
export function ffmpegChildren(): Array<{ pid: number; args: string }> {
  try {
    return execFileSync('ps', ['--ppid', String(process.pid), '-o', 'pid=,args='], { encoding: 'utf8' })
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => /^\d+\s+\S*ffmpeg\b/.test(l))
      .map((l) => {
        const [pid, ...rest] = l.split(/\s+/);
        return { pid: Number(pid), args: rest.join(' ') };
      });
  } catch {
    return []; // ps exits 1 when there are no children
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A logger that keeps every line (pino itself redacts nothing: that must come from the code under test). */
export function capturingLogger(level: pino.Level = 'debug'): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = pino({ level }, { write: (s: string) => void lines.push(s) });
  return { logger, lines };
}
