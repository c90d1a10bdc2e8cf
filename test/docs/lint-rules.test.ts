/**
 * The lint rules that read types and package borders, run by ESLint itself on a probe file
 * inside a library: a promise nobody awaits, an async callback where a plain one is expected,
 * and a relative import out of the library must each be an error, as `npm run lint` reports them.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ESLint } from 'eslint';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(__dirname, '..', '..');
const probe = join(root, 'libs/vision/src', `lint-probe-${process.pid}.ts`);

describe('eslint.config.mjs', () => {
  afterAll(() => rmSync(probe, { force: true }));

  it('finds floating and misused promises and relative imports that leave a library', async () => {
    writeFileSync(
      probe,
      [
        "import { repoRoot } from '../../common/src/repo-root';",
        "import { frameByteLength } from './frame';",
        'async function deliver(): Promise<void> {}',
        'export function probe(): number {',
        '  deliver();',
        '  [1, 2].forEach(async () => {',
        '    await deliver();',
        '  });',
        '  void deliver();',
        '  return repoRoot().length + frameByteLength(2, 2);',
        '}',
        '',
      ].join('\n'),
    );
    const [result] = await new ESLint({ cwd: root }).lintFiles([probe]);
    const found = result!.messages.map((m) => `${m.line}:${m.ruleId}`);
    expect(found).toEqual(
      expect.arrayContaining([
        '1:crowdlens/no-cross-package-relative-imports',
        '5:@typescript-eslint/no-floating-promises',
        '6:@typescript-eslint/no-misused-promises',
      ]),
    );
    // Inside the library, and a promise left on purpose with `void`, are fine.
    expect(found.filter((f) => f.startsWith('2:') || f.startsWith('9:'))).toEqual([]);
  });
});
