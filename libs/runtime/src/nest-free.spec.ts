/**
 * libs/runtime is what worker threads, scripts and libraries load without a Nest application: it
 * must never pull in NestJS, nor the platform half (@crowdlens/common), directly or through
 * another @crowdlens library. The lint rule catches a direct import; this walks every import,
 * following relative paths and @crowdlens/* aliases, so an indirect one fails too.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '../../..');
const RUNTIME = resolve(__dirname);

/** Specifiers that are the Nest platform: NestJS itself and libs/common. */
const isPlatform = (spec: string): boolean =>
  spec.startsWith('@nestjs/') || spec === '@crowdlens/common' || spec.startsWith('@crowdlens/common/');

function asModuleFile(base: string): string | undefined {
  for (const f of [`${base}.ts`, join(base, 'index.ts')]) if (existsSync(f) && statSync(f).isFile()) return f;
  return undefined;
}

/** The source file an import names, or undefined for a package outside the repository. */
function resolveImport(spec: string, from: string): string | undefined {
  if (spec.startsWith('.')) return asModuleFile(resolve(dirname(from), spec));
  const alias = /^@crowdlens\/([^/]+)(?:\/(.+))?$/.exec(spec);
  if (!alias) return undefined;
  const [, name, sub] = alias;
  const dir = ['ingest', 'inference', 'analytics'].includes(name!)
    ? join(ROOT, 'apps', name!, 'src')
    : join(ROOT, 'libs', name!, 'src');
  const file = asModuleFile(sub ? join(dir, sub) : dir);
  if (!file) throw new Error(`${relative(ROOT, from)}: cannot resolve "${spec}"`);
  return file;
}

/** Every platform import reachable from `entries`, as "file -> specifier" chains. */
export function platformImports(entries: readonly string[]): string[] {
  const seen = new Set<string>();
  const found: string[] = [];
  const visit = (file: string, chain: readonly string[]): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const here = [...chain, relative(ROOT, file)];
    for (const { fileName: spec } of importedFiles) {
      if (isPlatform(spec)) {
        found.push(`${here.join(' -> ')} -> ${spec}`);
        continue;
      }
      const next = resolveImport(spec, file);
      if (next) visit(next, here);
    }
  };
  for (const e of entries) visit(e, []);
  return found;
}

const runtimeSources = (): string[] =>
  readdirSync(RUNTIME)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts'))
    .map((f) => join(RUNTIME, f));

describe('libs/runtime', () => {
  it('reaches nothing of NestJS or @crowdlens/common, directly or through other libraries', () => {
    const files = runtimeSources();
    expect(files.map((f) => relative(RUNTIME, f))).toContain('index.ts');
    expect(platformImports(files)).toEqual([]);
  });

  it('the walk finds a Nest import behind an alias (the check can fail)', () => {
    // libs/common's barrel imports NestJS a few modules down.
    expect(platformImports([join(ROOT, 'libs/common/src/index.ts')]).some((c) => c.endsWith('@nestjs/common'))).toBe(
      true,
    );
  });
});
