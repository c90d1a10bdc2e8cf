/**
 * CI installs with `npm ci`, which refuses a lock that lacks any optional dependency of a locked
 * package, even one for another platform (@swc/core's darwin and win32 binaries, rollup's). A lock
 * written by an install that pruned them breaks CI on a fresh clone; this finds it without a network.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

interface LockEntry {
  readonly version?: string;
  readonly optionalDependencies?: Record<string, string>;
  readonly dependencies?: Record<string, string>;
  readonly devDependencies?: Record<string, string>;
}
interface Lock {
  readonly lockfileVersion: number;
  readonly packages: Record<string, LockEntry>;
}

const root = join(__dirname, '..', '..');
const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as Lock;
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as LockEntry;

/** Where npm would find `name` from the package at `path`: its own node_modules, then each parent's. */
function resolves(path: string, name: string): boolean {
  let dir = path;
  for (;;) {
    if (lock.packages[`${dir ? `${dir}/` : ''}node_modules/${name}`]) return true;
    if (!dir) return false;
    const up = dir.lastIndexOf('/node_modules/');
    dir = up < 0 ? '' : dir.slice(0, up);
  }
}

describe('package-lock.json', () => {
  it('lists every optional dependency of every locked package, every platform included, as npm ci requires', () => {
    expect(lock.lockfileVersion).toBeGreaterThanOrEqual(2);
    const missing: string[] = [];
    for (const [path, entry] of Object.entries(lock.packages)) {
      for (const name of Object.keys(entry.optionalDependencies ?? {})) {
        if (!resolves(path, name)) missing.push(`${path || '(root)'} → ${name}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it("records package.json's own dependencies as they are declared", () => {
    const locked = lock.packages[''];
    expect(locked?.dependencies).toEqual(manifest.dependencies);
    expect(locked?.devDependencies).toEqual(manifest.devDependencies);
  });
});
