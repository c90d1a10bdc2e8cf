/**
 * Prints what the config needs for a user or an API key, so neither a
 * password nor a key is ever stored in plain text:
 *   npm run hash-password -- 'my password'   -> passwordHash for auth.users
 *   npm run hash-password -- --api-key       -> a new key and its keySha256 for auth.apiKeys
 */
import { createHash, randomBytes } from 'node:crypto';
import { hashPassword } from '../libs/common/src/auth/password-hash';

const arg = process.argv[2];
if (arg === '--api-key') {
  const key = randomBytes(24).toString('base64url');
  process.stdout.write(
    `key (give it to the client, store it nowhere else): ${key}\nkeySha256: ${createHash('sha256').update(key).digest('hex')}\n`,
  );
} else if (arg) {
  process.stdout.write(`passwordHash: ${hashPassword(arg)}\n`);
} else {
  process.stderr.write("usage: npm run hash-password -- '<password>'   |   npm run hash-password -- --api-key\n");
  process.exit(2);
}
