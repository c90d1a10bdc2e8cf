import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

let cached: string | null = null;

/**
 * The repository root, found from this file's location. Code runs both from
 * source (tests) and from dist/ (npm start), so relative paths to assets
 * cannot be fixed at compile time.
 */
export function repoRoot(): string {
  if (cached) return cached;
  let dir = __dirname;
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      const name = (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name;
      if (name === 'crowdlens') return (cached = dir);
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find the crowdlens package root above ${__dirname}`);
    dir = parent;
  }
}
