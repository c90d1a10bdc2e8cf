/**
 * The JSON the stats endpoints answer with, for the OpenAPI document. The API
 * tests parse real answers with these (strict), so the document cannot drift
 * from what is sent.
 */
import { z } from 'zod';

const count = z.number().int().nonnegative().nullable();
const share = z.number().min(0).max(1).nullable();
const coverage = share.describe(
  '(male + female) / visitors: the share of visitors whose gender is decided, which the gender shares are of; ' +
    'null when suppressed or without visitors',
);

const counts = {
  suppressed: z.boolean().describe('fewer than k people: every count is withheld (null)'),
  faces: count.describe('classified face crops'),
  visitors: count.describe('unique people (tracks) first seen here, whether or not a face of theirs was classified'),
  male: count,
  female: count,
  unknown: count.describe(
    'visitors without a decided gender: no classified face, or too little or too unsure evidence',
  ),
  coverage,
};

const range = {
  from: z.number().int(),
  to: z.number().int(),
  bucket: z.enum(['minute', 'hour', 'day']),
  bucketMs: z.number().int(),
  kAnonymity: z.number().int(),
};

export const StatsTotalsSchema = z
  .object({
    ...counts,
    maleShare: share.describe('male / (male + female): a share of the decided visitors only (see coverage)'),
    femaleShare: share.describe('female / (male + female): a share of the decided visitors only (see coverage)'),
  })
  .strict();

export const StatsResultSchema = z
  .object({
    ...range,
    cameras: z.array(z.string()),
    totals: StatsTotalsSchema.describe('over the buckets shown: suppressed buckets are left out'),
    lateEvents: z.number().int().nonnegative(),
    series: z.array(
      z
        .object({ cameraId: z.string(), bucketStart: z.number().int(), ...counts })
        .strict()
        .describe('one camera and bucket'),
    ),
  })
  .strict();

export const GroupComparisonSchema = z
  .object({
    ...range,
    groups: z.array(
      StatsTotalsSchema.extend({
        group: z.string().nullable().describe('the camera group; null for the cameras without one'),
        label: z.string(),
        cameras: z.array(z.string()),
        visitorShares: z
          .object({ female: z.number(), male: z.number(), unknown: z.number() })
          .strict()
          .nullable()
          .describe('shares of all visitors, unknown included (they add up to 1)'),
        meanDwellMs: z
          .number()
          .nullable()
          .describe("mean time from a visitor's first to last sighting (their track's lifetime), ms"),
      }).strict(),
    ),
  })
  .strict();
