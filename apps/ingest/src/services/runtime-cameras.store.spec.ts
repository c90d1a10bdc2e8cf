import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CameraConfigSchema } from '@crowdlens/config';
import { effectiveCameras, NO_CHANGES, RuntimeCamerasStore, withAdded, withRemoved } from './runtime-cameras.store';

const cam = (id: string, url = `rtsp://user:pw@10.0.0.1/${id}`) => CameraConfigSchema.parse({ id, url });

describe('RuntimeCamerasStore', () => {
  const fresh = () => new RuntimeCamerasStore(join(mkdtempSync(join(tmpdir(), 'crowdlens-cams-')), 'sub', 'cameras.json'));

  it('starts empty without a file and round-trips what it saves, private to its owner', () => {
    const store = fresh();
    expect(store.load()).toEqual({ changes: NO_CHANGES });
    const changes = { added: [cam('door')], removed: ['lobby'] };
    store.save(changes);
    expect(store.load().changes).toEqual(changes);
    expect(statSync(store.path).mode & 0o777).toBe(0o600);
    // No temp file is left behind.
    expect(readdirSync(join(store.path, '..'))).toEqual(['cameras.json']);
  });

  it('moves an unreadable file aside with the reason instead of losing or overwriting it', () => {
    for (const [body, reason] of [
      ['{ not json', /JSON|Expected/i],
      [JSON.stringify({ version: 1, added: [{ id: 'x', url: 'rtsp://h/x', fps: 999 }], removed: [] }), /added\.0\.fps/],
      [JSON.stringify({ version: 2, added: [], removed: [] }), /version/],
    ] as const) {
      const store = fresh();
      store.save(NO_CHANGES);
      writeFileSync(store.path, body);
      const loaded = store.load();
      expect(loaded.changes).toEqual(NO_CHANGES);
      expect(loaded.quarantined?.reason).toMatch(reason);
      expect(existsSync(store.path)).toBe(false);
      expect(readFileSync(loaded.quarantined?.path ?? '', 'utf8')).toBe(body);
    }
  });
});

describe('camera changes made at runtime', () => {
  const configured = [cam('lobby'), cam('till')];

  it('applies removals and additions on top of the config file', () => {
    const changes = withAdded(withRemoved(NO_CHANGES, 'lobby', configured), cam('door'));
    expect(changes).toEqual({ added: [cam('door')], removed: ['lobby'] });
    const { cameras, shadowed } = effectiveCameras(configured, changes);
    expect(cameras.map((c) => c.id)).toEqual(['till', 'door']);
    expect(shadowed).toEqual([]);
  });

  it('forgets a runtime camera entirely when it is removed, and un-removes a configured id added back', () => {
    const added = withAdded(NO_CHANGES, cam('door'));
    expect(withRemoved(added, 'door', configured)).toEqual(NO_CHANGES);
    const back = withAdded(withRemoved(NO_CHANGES, 'lobby', configured), cam('lobby', 'rtsp://h/new'));
    expect(back.removed).toEqual([]);
    expect(effectiveCameras(configured, back).cameras.map((c) => c.id)).toEqual(['lobby', 'till']);
  });

  it('lets the config file win when it now uses a runtime camera’s id, and reports it', () => {
    const { cameras, shadowed } = effectiveCameras(configured, withAdded(NO_CHANGES, cam('till', 'rtsp://h/other')));
    expect(cameras.filter((c) => c.id === 'till')).toEqual([cam('till')]);
    expect(shadowed).toEqual(['till']);
  });
});
