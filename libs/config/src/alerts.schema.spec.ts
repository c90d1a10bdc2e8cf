import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfig } from './load-config';
import { redactText } from './redact';

const hook = { name: 'ops', url: 'https://hooks.example.com/crowdlens' };

function issuesOf(raw: unknown): string[] {
  try {
    parseConfig(raw);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return [...(err as ConfigError).issues];
  }
  throw new Error('expected a ConfigError');
}

describe('alerts config', () => {
  it('defaults to no rules and no webhooks', () => {
    const { alerts } = parseConfig({});
    expect(alerts.rules).toEqual([]);
    expect(alerts.webhooks).toEqual([]);
    expect(alerts.evaluateIntervalMs).toBe(1000);
  });

  it('fills rule defaults and keeps each webhook with its secret', () => {
    const { alerts } = parseConfig({
      alerts: {
        rules: [
          { type: 'camera-down', name: 'down' },
          { type: 'detector-latency', name: 'slow', aboveMs: 500, cameras: ['door'] },
          { type: 'zone-occupancy', name: 'full', zone: 'till', above: 10 },
        ],
        webhooks: [{ ...hook, secret: 's'.repeat(20) }],
      },
    });
    expect(alerts.rules.map((r) => [r.name, r.forSeconds])).toEqual([
      ['down', 120],
      ['slow', 60],
      ['full', 0],
    ]);
    expect(alerts.webhooks[0]).toMatchObject({ secret: 's'.repeat(20), timeoutMs: 5000, maxAttempts: 10 });
  });

  it('refuses bad values, naming the field', () => {
    const text = issuesOf({
      alerts: {
        rules: [
          { type: 'detector-latency', name: 'l', aboveMs: 0 },
          { type: 'camera-on-fire', name: 'x' },
        ],
        webhooks: [
          { name: 'short', url: 'https://a.example/h', secret: 'short' },
          { name: 'ftp', url: 'ftp://a.example/h', secret: 'x'.repeat(16) },
        ],
      },
    }).join('\n');
    expect(text).toMatch(/alerts\.rules\[0\]\.aboveMs/);
    expect(text).toMatch(/alerts\.rules\[1\]\.type/);
    expect(text).toMatch(/alerts\.webhooks\[0\]\.secret: at least 16 characters/);
    expect(text).toMatch(/alerts\.webhooks\[1\]\.url/);
  });

  it('refuses duplicate names, a webhook without a secret, and a secret for no webhook', () => {
    const text = issuesOf({
      alerts: {
        rules: [
          { type: 'camera-down', name: 'a' },
          { type: 'camera-stalled', name: 'a' },
        ],
        webhooks: [
          { name: 'nosecret', url: 'https://a.example/h' },
          { name: 'twice', url: 'https://a.example/h', secret: 't'.repeat(16) },
        ],
        webhookSecrets: { ghost: 'g'.repeat(16), twice: 'u'.repeat(16) },
      },
    }).join('\n');
    expect(text).toContain('alerts.rules[1].name: duplicate name "a"');
    expect(text).toContain('alerts.webhooks[0].secret: webhook "nosecret" has no secret');
    expect(text).toContain('alerts.webhooks[1].secret: webhook "twice" has a secret in both');
    expect(text).toContain('alerts.webhookSecrets.ghost: no webhook is named "ghost"');
  });

  it('refuses a zone threshold that would reveal counts under k', () => {
    const issues = issuesOf({
      analytics: { kAnonymity: 5 },
      alerts: { rules: [{ type: 'zone-occupancy', name: 'z', above: 2 }] },
    });
    expect(issues.join('\n')).toContain('alerts.rules[0].above: must be at least analytics.kAnonymity − 1 = 4');
    expect(
      parseConfig({
        analytics: { kAnonymity: 5 },
        alerts: { rules: [{ type: 'zone-occupancy', name: 'z', above: 4 }] },
      }).alerts.rules,
    ).toHaveLength(1);
  });

  it("takes the secret from the secrets file, keeps the main file's rules, and redacts it from then on", () => {
    const dir = mkdtempSync(join(tmpdir(), 'crowdlens-alerts-cfg-'));
    const main = join(dir, 'crowdlens.yaml');
    const secrets = join(dir, 'secrets.yaml');
    const secret = 'webhook-secret-from-file-7f3a9c';
    writeFileSync(
      main,
      `alerts:\n  rules:\n    - { type: camera-down, name: down, forSeconds: 30 }\n  webhooks:\n    - { name: ops, url: "${hook.url}" }\n`,
    );
    writeFileSync(secrets, `alerts:\n  webhookSecrets:\n    ops: ${secret}\n`);
    const { alerts } = loadConfig({ CROWDLENS_CONFIG: main, CROWDLENS_SECRETS_FILE: secrets });
    expect(alerts.rules.map((r) => r.name)).toEqual(['down']);
    expect(alerts.webhooks[0]!.secret).toBe(secret);
    expect(redactText(`signing with ${secret}`)).toBe('signing with ***');
    // Without the secrets file the same main file is refused, with the reason.
    expect(() => loadConfig({ CROWDLENS_CONFIG: main })).toThrow(/webhook "ops" has no secret/);
  });
});
