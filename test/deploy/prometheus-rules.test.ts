/**
 * deploy/prometheus/alerts.yml: valid for Prometheus (`promtool check rules`),
 * each alert fires on the series that should fire it and not before
 * (`promtool test rules alerts.test.yml`), and every CrowdLens metric it reads
 * is one the code exports, so renaming a metric breaks this test, not the alerts.
 * promtool comes from Debian's prometheus package (scripts/setup-system.sh).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/deploy-scripts';
import { run } from './deploy-tools';

const DIR = join(REPO_ROOT, 'deploy/prometheus');

function promtool(): string {
  try {
    return execFileSync('bash', ['-c', 'command -v promtool'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error("promtool not found: run scripts/setup-system.sh (it installs Debian's prometheus package)");
  }
}

describe('Prometheus alerting rules', () => {
  it('pass promtool check rules', async () => {
    const r = await run(promtool(), ['check', 'rules', join(DIR, 'alerts.yml')]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('fire on the series they are about, and not before (promtool test rules)', async () => {
    const r = await run(promtool(), ['test', 'rules', join(DIR, 'alerts.test.yml')]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('SUCCESS');
    // Every alert of the rules file is exercised by the test file.
    const alerts = [...readFileSync(join(DIR, 'alerts.yml'), 'utf8').matchAll(/- alert: (\w+)/g)].map((m) => m[1]);
    const tested = readFileSync(join(DIR, 'alerts.test.yml'), 'utf8');
    for (const name of alerts) expect(tested, name).toContain(`alertname: ${name}`);
  });

  it('read only metrics that CrowdLens exports', () => {
    const rules = readFileSync(join(DIR, 'alerts.yml'), 'utf8');
    const used = [...new Set([...rules.matchAll(/\b(crowdlens_[a-z_]+)/g)].map((m) => m[1]!))];
    expect(used.length).toBeGreaterThanOrEqual(5);
    const source = execFileSync('grep', ['-rhoE', "'crowdlens_[a-z_]+'", 'apps', 'libs', '--include=*.ts'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    });
    const exported = new Set(source.split('\n').map((l) => l.replace(/'/g, '')));
    expect(used.filter((m) => !exported.has(m))).toEqual([]);
  });
});
