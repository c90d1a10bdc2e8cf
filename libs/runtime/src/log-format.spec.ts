import { describe, expect, it } from 'vitest';
import { createLogger } from './logger';
import { formatLogLine, prettyDestination } from './log-format';

describe('formatLogLine', () => {
  it('puts time, level, name and message first, then the fields as key=value on one line', () => {
    const line = formatLogLine(
      JSON.stringify({
        level: 30,
        time: Date.UTC(2024, 0, 1, 12, 3, 4, 567),
        pid: 42,
        hostname: 'box',
        name: 'crowdlens',
        role: 'embedded',
        cameras: ['sample'],
        url: 'http://127.0.0.1:3401',
        msg: 'CrowdLens started',
      }),
    );
    expect(line).toMatch(
      /^\d\d:\d\d:\d\d\.567 INFO  \[crowdlens\] CrowdLens started role=embedded cameras=\["sample"\] url=http:\/\/127\.0\.0\.1:3401\n$/,
    );
    expect(line).not.toContain('pid=');
    expect(line).not.toContain('hostname=');
  });

  it('keeps a multi-line value (a stack trace) on the line, quoted, and shows an error by its message', () => {
    const line = formatLogLine(
      JSON.stringify({
        level: 50,
        time: 0,
        msg: 'failed',
        trace: 'Error: x\n    at a\n    at b',
        err: { type: 'Error', message: 'boom here', stack: 'Error: boom here\n    at c' },
      }),
    );
    expect(line.split('\n')).toHaveLength(2);
    expect(line).toContain('ERROR failed trace="Error: x\\n    at a\\n    at b" err="boom here"');
  });

  it('passes anything that is not a JSON object through', () => {
    expect(formatLogLine('plain text\n')).toBe('plain text\n');
    expect(formatLogLine('[1,2]\n')).toBe('[1,2]\n');
  });
});

describe('prettyDestination', () => {
  it('formats what a pino logger writes, message credentials redacted as before', () => {
    const out: string[] = [];
    const logger = createLogger('info', 'inference', prettyDestination({ write: (s: string) => out.push(s) }));
    logger.info({ partitions: [0, 1] }, 'camera rtsp://user:secret@cam/stream');
    logger.debug('hidden');
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(/ INFO  \[inference\] camera \S+ partitions=\[0,1\]\n$/);
    expect(out[0]).not.toContain('secret');
  });
});
