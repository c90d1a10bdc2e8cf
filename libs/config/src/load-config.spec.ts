import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfig } from './load-config';
import { redactText, redactUrl } from './redact';

function expectConfigError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('config', () => {
  it('fills sane defaults for an empty config', () => {
    const c = parseConfig({});
    expect(c.role).toBe('embedded');
    expect(c.http.port).toBe(3000);
    expect(c.bus).toEqual({ type: 'memory', queueCapacity: 512 });
    expect(c.store).toEqual({ type: 'sqlite', path: 'data/crowdlens.db' });
    expect(parseConfig({ dataDir: '/var/lib/cl' }).store).toEqual({ type: 'sqlite', path: '/var/lib/cl/crowdlens.db' });
    expect(c.model.type).toBe('faceapi-age-gender');
    expect(c.batcher.maxBatch).toBeGreaterThan(1);
  });

  it('names the field of every invalid value', () => {
    const err = expectConfigError(() =>
      parseConfig({
        cameras: [
          { id: 'ok', url: 'a.mp4', fps: -1 },
          { id: 'bad id!', url: '' },
        ],
        http: { port: 70000 },
      }),
    );
    expect(err.message).toContain('cameras[0].fps');
    expect(err.message).toContain('cameras[1].id');
    expect(err.message).toContain('cameras[1].url');
    expect(err.message).toContain('http.port');
  });

  it('rejects unknown keys and unknown backend types', () => {
    expect(expectConfigError(() => parseConfig({ camras: [] })).message).toMatch(/camras/);
    expect(expectConfigError(() => parseConfig({ bus: { type: 'rabbitmq' } })).message).toContain('bus.type');
  });

  it('rejects duplicate camera ids', () => {
    const err = expectConfigError(() =>
      parseConfig({
        cameras: [
          { id: 'a', url: 'x' },
          { id: 'a', url: 'y' },
        ],
      }),
    );
    expect(err.message).toContain('duplicate camera id "a"');
  });

  it('never echoes credentials from a bad camera URL', () => {
    const err = expectConfigError(() =>
      parseConfig({ cameras: [{ id: 'a', url: 'rtsp://admin:hunter2@10.0.0.5/live', fps: 99 }] }),
    );
    expect(err.message).not.toContain('hunter2');
  });

  it('loads a YAML file and lets the environment override it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'crowdlens-config-'));
    const file = join(dir, 'crowdlens.yaml');
    writeFileSync(file, 'http:\n  port: 4000\ncameras:\n  - id: door\n    url: rtsp://cam.local/stream\n    fps: 2\n');
    const c = loadConfig({ CROWDLENS_CONFIG: file, PORT: '5000', CROWDLENS_LOG_LEVEL: 'warn' });
    expect(c.http.port).toBe(5000);
    expect(c.logLevel).toBe('warn');
    expect(c.cameras[0]).toMatchObject({ id: 'door', fps: 2, width: 640 });
  });

  it('reports a missing config file and a non-integer port clearly', () => {
    expect(expectConfigError(() => loadConfig({ CROWDLENS_CONFIG: '/nope/crowdlens.yaml' })).message).toContain(
      'Config file not found: /nope/crowdlens.yaml',
    );
    expect(expectConfigError(() => loadConfig({ PORT: 'eighty' })).message).toContain('PORT');
  });

  it('redacts credentials in URLs and free text', () => {
    expect(redactUrl('rtsp://admin:s3cret@10.0.0.5:554/live')).toBe('rtsp://***:***@10.0.0.5:554/live');
    expect(redactUrl('rtsp://10.0.0.5/live')).toBe('rtsp://10.0.0.5/live');
    expect(redactText('error opening rtsp://u:p@h/x and http://a:b@c/d')).toBe(
      'error opening rtsp://***:***@h/x and http://***:***@c/d',
    );
  });
});

describe('the shipped example config', () => {
  it('is valid', () => {
    const file = join(__dirname, '../../../deploy/crowdlens.example.yaml');
    const c = loadConfig({ CROWDLENS_CONFIG: file });
    expect(c.cameras.map((cam) => cam.id)).toEqual(['entrance', 'tills']);
    expect(c.auth.users[0]!.role).toBe('admin');
  });
});
