/**
 * Door and zone counts outlive the per-track records: a real analytics
 * process (in-memory bus, SQLite) is fed 40-day-old crossings and stays, its
 * retention (30 days) runs, and its hour and day answers over HTTP are the
 * same as before, genders included, though every raw row and every person's
 * record is gone. Minutes are not kept past retention, as for visitors.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '@crowdlens/config';
import {
  GENDER_PREDICTIONS_TOPIC,
  LINE_ZONE_EVENT_SCHEMA_VERSION,
  LINE_ZONE_EVENTS_TOPIC,
  TRACK_EVENTS_TOPIC,
  type LineZoneEvent,
} from '@crowdlens/contracts';
import { MESSAGE_BUS, type InMemoryBus } from '@crowdlens/bus';
import { createLogger } from '@crowdlens/runtime';
import { LINE_ZONE_STORE, type LineZoneStore } from '@crowdlens/storage';
import { startCrowdLens, type RunningApp } from '../../apps/embedded/src/bootstrap';
import { RetentionService } from '../../apps/analytics/src/services/retention.service';
import { trackLifetime } from '../factories/track-event.factory';
import { personPrediction } from '../support/predictions';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const MINUTE = 60_000;
/** 40 days ago, on the hour: past the 30 days of per-track records. */
const T0 = Math.floor((Date.now() - 40 * DAY) / HOUR) * HOUR;
const PEOPLE = 12;

interface LinesBody {
  lines: { name: string; in: { people: number | null }; out: { people: number | null } }[];
  series: { bucketStart: number; direction: string; people: number | null; male: number | null }[];
}
interface ZonesBody {
  zones: { name: string; entries: { people: number | null }; meanDwellMs: number | null }[];
  series: { bucketStart: number; people: number | null; occupancy: number | null }[];
}

/** Twelve people through the door over 87 minutes (two hours), half of them stop at the shelf. */
function feed(bus: InMemoryBus): Promise<void[]> {
  const sends: Promise<void>[] = [];
  for (let i = 0; i < PEOPLE; i++) {
    const trackId = `old-${i}`;
    const first = T0 + i * 7 * MINUTE;
    const last = first + 10 * MINUTE;
    for (const e of trackLifetime({ cameraId: 'door', trackId, firstSeenTs: first, lastSeenTs: last }))
      sends.push(bus.publish(TRACK_EVENTS_TOPIC, e));
    if (i % 4 !== 3)
      sends.push(
        bus.publish(
          GENDER_PREDICTIONS_TOPIC,
          personPrediction(`${trackId}-c`, 'door', trackId, first + 1000, i % 2 ? 0.9 : 0.1),
        ),
      );
    const base = { schemaVersion: LINE_ZONE_EVENT_SCHEMA_VERSION, cameraId: 'door', trackId, emittedAt: last } as const;
    const events: LineZoneEvent[] = [
      { ...base, kind: 'line-crossed', eventId: `${trackId}:in`, name: 'door', ts: first + 1000, direction: 'in' },
      { ...base, kind: 'line-crossed', eventId: `${trackId}:out`, name: 'door', ts: last - 1000, direction: 'out' },
    ];
    if (i % 2 === 0) {
      events.push({ ...base, kind: 'zone-entered', eventId: `${trackId}:ze`, name: 'shelf', ts: first + 2 * MINUTE });
      // One exit lost (a crashed ingest): that stay lasts until the person was last seen.
      if (i !== 4)
        events.push({
          ...base,
          kind: 'zone-exited',
          eventId: `${trackId}:zx`,
          name: 'shelf',
          ts: first + (3 + i) * MINUTE,
          enteredTs: first + 2 * MINUTE,
          reason: 'walked-out',
        });
    }
    for (const e of events) sends.push(bus.publish(LINE_ZONE_EVENTS_TOPIC, e));
  }
  return Promise.all(sends);
}

describe('line and zone counts past retention', () => {
  let running: RunningApp;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'crowdlens-lz-retention-'));
    running = await startCrowdLens(
      parseConfig({
        role: 'analytics',
        dataDir: dir,
        http: { port: 0, host: '127.0.0.1' },
        cameras: [{ id: 'door', url: 'rtsp://10.1.1.1/door' }],
        analytics: {
          kAnonymity: 2,
          minTrackEvidence: 1,
          minVoteMargin: 0.1,
          allowedLatenessMs: DAY,
          minuteRetentionDays: 30,
        },
      }),
      createLogger('warn'),
    );
    const bus = running.app.get<InMemoryBus>(MESSAGE_BUS);
    await feed(bus);
    await bus.idle();
  }, 60_000);

  afterAll(async () => {
    await running?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const json = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${running.url}${path}`);
    expect(res.status, path).toBe(200);
    return (await res.json()) as T;
  };
  const range = `from=${T0}&to=${T0 + 2 * HOUR}`;

  it('answers hours and days as before once crossings, stays and the people behind them have expired', async () => {
    const paths = ['hour', 'day'].flatMap((bucket) =>
      ['lines', 'zones', 'lines/csv', 'zones/csv'].map((what) => `/api/stats/${what}?${range}&bucket=${bucket}`),
    );
    const read = (path: string) =>
      path.includes('/csv') ? fetch(`${running.url}${path}`).then((r) => r.text()) : json<unknown>(path);
    const before = await Promise.all(paths.map(read));

    // What the feed puts in: 12 in and 12 out (nine in hour 0), male/female/unknown; 6 stays, 5 of them left.
    const lines = before[0] as LinesBody;
    expect(lines.lines).toMatchObject([{ name: 'door', in: { people: PEOPLE }, out: { people: PEOPLE } }]);
    expect(
      lines.series.filter((r) => r.direction === 'in').map((r) => [(r.bucketStart - T0) / HOUR, r.people, r.male]),
    ).toEqual([
      [0, 9, 2],
      [1, 3, 1],
    ]);
    const zones = before[1] as ZonesBody;
    // Five entries in hour 0; hour 1's one entry is withheld (k = 2), and so is its stay.
    expect(zones.zones).toMatchObject([{ name: 'shelf', entries: { people: 5 } }]);
    // The shown stays that left: 1, 3, 7 and 9 minutes (the one entered at 30 min has no exit).
    expect(zones.zones[0]!.meanDwellMs).toBe(((1 + 3 + 7 + 9) * MINUTE) / 4);
    // The lost stay (entered at 30 min, last seen at 38) is inside in hour 0 only; hour 1 has the
    // stay entered at 58 min (left at 67) and the one entered at 72.
    expect(zones.series.map((r) => [(r.bucketStart - T0) / HOUR, r.people, r.occupancy])).toEqual([
      [0, 5, 5],
      [1, null, 2],
    ]);
    const minute = await json<LinesBody>(`/api/stats/lines?${range}&bucket=minute`);
    expect(minute.series.length).toBeGreaterThan(0);

    const retention = running.app.get(RetentionService);
    expect(await retention.run()).toMatchObject({ tracks: PEOPLE });
    const store = running.app.get<LineZoneStore>(LINE_ZONE_STORE);
    expect(await store.zoneVisits({ from: T0, to: T0 + 2 * HOUR })).toEqual([]);

    expect(await Promise.all(paths.map(read))).toEqual(before);
    // Minutes went with the raw rows.
    expect((await json<LinesBody>(`/api/stats/lines?${range}&bucket=minute`)).series).toEqual([]);
    // A second run finds nothing more to fold, and changes nothing.
    await retention.run();
    expect(await Promise.all(paths.map(read))).toEqual(before);
  });
});
