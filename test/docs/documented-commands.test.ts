/**
 * The commands a newcomer copies from the README and docs/distributed.md
 * name things that exist, and both pages tell one story: the same roles on
 * the same ports with the same config. (The commands themselves run in
 * test/distributed, with the same roles, config shape and sample video.)
 */
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '@crowdlens/config';
import { REPO_ROOT } from '../support/deploy-scripts';

const read = (path: string): string => readFileSync(join(REPO_ROOT, path), 'utf8');

/** The bash code blocks of a markdown section (from its heading to the next heading of the same level). */
function bashBlocks(markdown: string, heading: string): string[] {
  const start = markdown.indexOf(`${heading}\n`);
  if (start < 0) throw new Error(`no section "${heading}"`);
  const level = heading.split(' ')[0]!;
  const rest = markdown.slice(start + heading.length);
  const end = rest.search(new RegExp(`\\n${level} `));
  const section = end < 0 ? rest : rest.slice(0, end);
  return [...section.matchAll(/```bash\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

/** Command lines without their trailing comments, `&&` chains split. */
function commands(blocks: readonly string[]): string[] {
  return blocks
    .flatMap((b) => b.split('\n'))
    .map((l) => l.replace(/\s+#.*$/, '').trim())
    .filter((l) => l && !l.startsWith('#'))
    .flatMap((l) => l.split('&&').map((c) => c.trim()));
}

interface RoleStart {
  readonly config: string;
  readonly port: number;
  readonly role: string;
}

function roleStarts(lines: readonly string[]): RoleStart[] {
  return lines
    .map((l) => /^CROWDLENS_CONFIG=(\S+) PORT=(\d+) npm run start:(\w+)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ config: m[1]!, port: Number(m[2]), role: m[3]! }));
}

const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;

function checkExists(line: string): void {
  const [first, ...args] = line.replace(/^(\w+=\S+\s+)+/, '').split(/\s+/);
  if (first === 'npm' && args[0] === 'run') expect(scripts, line).toHaveProperty(args[1]!);
  else if (first === 'bash') expect(existsSync(join(REPO_ROOT, args[0]!)), line).toBe(true);
  else if (first!.includes('/')) accessSync(join(REPO_ROOT, first!), constants.X_OK);
}

describe('documented commands', () => {
  it('README and docs/distributed.md start the same roles on the same ports with a config that exists and loads', () => {
    const readme = commands(bashBlocks(read('README.md'), '## Distributed mode'));
    const docs = commands(bashBlocks(read('docs/distributed.md'), '## Run it'));
    const byRole = (s: readonly RoleStart[]) => [...s].sort((a, b) => a.role.localeCompare(b.role));
    const fromReadme = byRole(roleStarts(readme));
    expect(fromReadme.map((s) => s.role)).toEqual(['analytics', 'inference', 'ingest']);
    expect(byRole(roleStarts(docs))).toEqual(fromReadme);
    expect(new Set(fromReadme.map((s) => s.port)).size).toBe(3);
    for (const { config, role } of fromReadme) {
      expect(existsSync(join(REPO_ROOT, config)), config).toBe(true);
      expect(loadConfig({ CROWDLENS_CONFIG: join(REPO_ROOT, config), CROWDLENS_ROLE: role }).role).toBe(role);
    }
    for (const line of [...readme, ...docs]) checkExists(line);
  });

  it('the README’s bring-your-own-model commands use the tools wrapper, with tools it knows', () => {
    const lines = commands(bashBlocks(read('README.md'), '## Bring your own ResNet50'));
    const tools = lines.filter((l) => l.startsWith('tools/crowdlens-tools ')).map((l) => l.split(/\s+/)[1]!);
    expect(tools).toEqual(expect.arrayContaining(['export', 'make_tiny_celeba', 'train']));
    const wrapper = read('tools/crowdlens-tools');
    for (const tool of tools) {
      expect(wrapper, tool).toContain(tool);
      expect(existsSync(join(REPO_ROOT, 'tools/crowdlens_tools', `${tool}.py`)), tool).toBe(true);
    }
    // A bare `python -m crowdlens_tools…` fails on a fresh clone (the package is not on the path).
    expect(lines.some((l) => /python\S* -m crowdlens_tools/.test(l))).toBe(false);
    for (const line of lines) checkExists(line);
  });
});
