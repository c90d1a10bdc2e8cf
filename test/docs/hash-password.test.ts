/** `npm run hash-password` takes the password on stdin, never as an argument (ps, shell history). */
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { verifyPassword } from '@crowdlens/common';
import { main } from '../../scripts/hash-password';

async function run(argv: string[], input: string): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c) => (out += String(c)));
  stderr.on('data', (c) => (err += String(c)));
  const code = await main(argv, { stdin: Readable.from([input]), stdout, stderr });
  return { code, out, err };
}

describe('hash-password', () => {
  it('hashes the password piped on stdin, without its line ending', async () => {
    const { code, out } = await run([], 'a long passphrase\n');
    expect(code).toBe(0);
    const hash = /^passwordHash: (\S+)\n$/.exec(out)![1]!;
    expect(verifyPassword('a long passphrase', hash)).toBe(true);
  });

  it('refuses a password given as an argument, and says why', async () => {
    const { code, out, err } = await run(['a long passphrase'], '');
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(err).toContain('stdin');
  });

  it('still makes API keys', async () => {
    const { code, out } = await run(['--api-key'], '');
    expect(code).toBe(0);
    expect(out).toMatch(/keySha256: [a-f0-9]{64}\n$/);
  });
});
