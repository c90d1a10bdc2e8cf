import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@crowdlens/config';
import type { CameraStatus } from '@crowdlens/contracts';
import { defer, exhaustMap, from, interval, share, startWith, type Observable } from 'rxjs';
import { CameraRegistry } from './camera-registry.service';
import { StatsService, type GroupComparison, type StatsResult } from './stats.service';

export interface CameraScope {
  readonly cameraId: string;
  readonly name: string;
  readonly group: string | null;
}

export interface LiveSnapshot {
  readonly at: number;
  /** Names and groups only: what any viewer may see, for filters. */
  readonly scope: readonly CameraScope[];
  /** Full camera health: operators only (the controller strips it for viewers). */
  readonly cameras: readonly CameraStatus[];
  /** The last hour by minute, all cameras: what the dashboard's live chart shows. */
  readonly lastHour: StatsResult;
  /** The last hour, store by store (minute buckets, like the chart): the dashboard's Stores panel. */
  readonly groups: GroupComparison;
}

/**
 * One timer for all dashboard clients: each tick queries once and fans out.
 * A tick that comes while the previous query still runs is skipped
 * (exhaustMap), so a query slower than the interval still delivers its
 * snapshot — switchMap would cancel it at every tick and nobody would ever
 * get one — and queries never pile up on a slow database.
 */
@Injectable()
export class LiveService {
  readonly snapshots$: Observable<LiveSnapshot>;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly stats: StatsService,
    private readonly cameras: CameraRegistry,
  ) {
    this.snapshots$ = interval(config.analytics.liveIntervalMs).pipe(
      startWith(0),
      exhaustMap(() => from(defer(() => this.snapshot()))),
      share(),
    );
  }

  async snapshot(): Promise<LiveSnapshot> {
    const now = Date.now();
    const to = Math.ceil((now + 1) / 60_000) * 60_000;
    const range = { cameraIds: [], groups: [], from: to - 3_600_000, to, bucket: 'minute' } as const;
    const [lastHour, groups] = await Promise.all([this.stats.stats(range), this.stats.groups(range)]);
    const cameras = this.cameras.list();
    const scope = cameras.map((c) => ({ cameraId: c.cameraId, name: c.name, group: c.group ?? null }));
    return { at: now, scope, cameras, lastHour, groups };
  }
}
