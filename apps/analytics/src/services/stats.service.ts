import { BadRequestException, Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@crowdlens/config';
import { AGGREGATE_STORE, BUCKET_MS, type AggregateStore, type StatsRow, type VotePolicy } from '@crowdlens/storage';
import type { StatsQueryDto } from '../dtos/stats-query.dto';
import { CameraRegistry } from './camera-registry.service';

export interface StatsTotals {
  readonly faces: number;
  readonly visitors: number;
  readonly male: number;
  readonly female: number;
  readonly unknown: number;
  /** Shares of the people with a voted gender; null when there are none. */
  readonly maleShare: number | null;
  readonly femaleShare: number | null;
}

export interface StatsResult {
  readonly from: number;
  readonly to: number;
  readonly bucket: StatsQueryDto['bucket'];
  readonly bucketMs: number;
  readonly cameras: readonly string[];
  readonly totals: StatsTotals;
  readonly series: readonly StatsRow[];
}

export function totalsOf(rows: readonly StatsRow[]): StatsTotals {
  const sum = (pick: (r: StatsRow) => number) => rows.reduce((acc, r) => acc + pick(r), 0);
  const male = sum((r) => r.male);
  const female = sum((r) => r.female);
  const decided = male + female;
  return {
    faces: sum((r) => r.faces),
    visitors: sum((r) => r.visitors),
    male,
    female,
    unknown: sum((r) => r.unknown),
    maleShare: decided > 0 ? male / decided : null,
    femaleShare: decided > 0 ? female / decided : null,
  };
}

@Injectable()
export class StatsService {
  private readonly vote: VotePolicy;

  constructor(
    @Inject(AGGREGATE_STORE) private readonly store: AggregateStore,
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly cameras: CameraRegistry,
  ) {
    this.vote = { minEvidence: config.analytics.minTrackEvidence, minMargin: config.analytics.minVoteMargin };
  }

  async stats(query: StatsQueryDto): Promise<StatsResult> {
    const unknown = query.cameraIds.filter((id) => !this.cameras.has(id));
    if (unknown.length > 0) {
      throw new BadRequestException({ statusCode: 400, error: 'Bad Request', message: [`camera: unknown camera id(s) ${unknown.join(', ')}`] });
    }
    const series = await this.store.queryStats({
      cameraIds: query.cameraIds,
      from: query.from,
      to: query.to,
      bucket: query.bucket,
      vote: this.vote,
    });
    return {
      from: query.from,
      to: query.to,
      bucket: query.bucket,
      bucketMs: BUCKET_MS[query.bucket],
      cameras: query.cameraIds.length > 0 ? query.cameraIds : this.cameras.list().map((c) => c.cameraId),
      totals: totalsOf(series),
      series,
    };
  }
}
