/**
 * Prints what the config needs for a user or an API key, so neither a
 * password nor a key is ever stored in plain text:
 *   npm run hash-password                     -> asks for the password (or reads it piped on stdin), prints passwordHash
 *   npm run hash-password -- --api-key        -> a new key and its keySha256 for auth.apiKeys
 * The password is read from stdin, never taken as an argument: arguments end
 * up in the shell history and in every `ps` listing.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';
import { hashPassword } from '../libs/common/src/auth/password-hash';

const USAGE =
  'usage: npm run hash-password   (type the password, or pipe it: printf \'%s\' "$PW" | npm run -s hash-password)\n' +
  '       npm run hash-password -- --api-key\n';

/** Everything on stdin up to EOF, or the first line when a person types it; without the line ending. */
async function readSecret(stdin: Readable & { isTTY?: boolean }, stderr: Writable): Promise<string> {
  if (stdin.isTTY) stderr.write('password (then Enter): ');
  let text = '';
  for await (const chunk of stdin) {
    text += String(chunk);
    if (stdin.isTTY && text.includes('\n')) break;
  }
  return stdin.isTTY ? (text.split(/\r?\n/)[0] ?? '') : text.replace(/\r?\n$/, '');
}

export async function main(
  argv: readonly string[],
  io: { stdin: Readable & { isTTY?: boolean }; stdout: Writable; stderr: Writable },
): Promise<number> {
  const [arg, ...rest] = argv;
  if (arg === '--api-key' && rest.length === 0) {
    const key = randomBytes(24).toString('base64url');
    io.stdout.write(
      `key (give it to the client, store it nowhere else): ${key}\nkeySha256: ${createHash('sha256').update(key).digest('hex')}\n`,
    );
    return 0;
  }
  if (arg !== undefined) {
    io.stderr.write(
      `the password is read from stdin, not from arguments (they show in ps and the shell history)\n${USAGE}`,
    );
    return 2;
  }
  const password = await readSecret(io.stdin, io.stderr);
  if (password === '') {
    io.stderr.write(`no password on stdin\n${USAGE}`);
    return 2;
  }
  io.stdout.write(`passwordHash: ${hashPassword(password)}\n`);
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2), { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr }).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`hash-password failed: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
