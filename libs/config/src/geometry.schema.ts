import { z } from 'zod';

/**
 * Lines and zones of one camera, in normalised picture coordinates: x and y
 * from 0 to 1 (0,0 = top-left, 1,1 = bottom-right), so they survive a change
 * of the analysis width and can be drawn on any rendition of the picture.
 */
export const NormalisedPointSchema = z
  .tuple([z.number().min(0).max(1), z.number().min(0).max(1)])
  .describe('[x, y], each 0–1 of the picture width and height, from the top-left corner');
export type NormalisedPoint = z.infer<typeof NormalisedPointSchema>;

export const GeometryNameSchema = z
  .string()
  .trim()
  .min(1)
  .max(64)
  .regex(/^[^\u0000-\u001f,"]+$/, 'no control characters, commas or double quotes')
  .describe('unique per camera among its lines and zones; the key its counts are stored under');

export const CountingLineSchema = z
  .object({
    name: GeometryNameSchema,
    points: z
      .tuple([NormalisedPointSchema, NormalisedPointSchema])
      .refine(([a, b]) => a[0] !== b[0] || a[1] !== b[1], 'a line needs 2 distinct points')
      .describe(
        '[A, B]: "in" is a crossing towards the side that A→B points to when turned 90° clockwise on the screen ' +
          '(a line drawn left to right counts people walking down the picture as in)',
      ),
  })
  .strict();
export type CountingLine = z.infer<typeof CountingLineSchema>;

export const CountingZoneSchema = z
  .object({
    name: GeometryNameSchema,
    points: z
      .array(NormalisedPointSchema)
      .min(3, 'a zone needs at least 3 points')
      .max(64)
      .describe('polygon corners in order; the last joins the first'),
    capacity: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe('people inside at once before the zone counts as over capacity'),
  })
  .strict();
export type CountingZone = z.infer<typeof CountingZoneSchema>;

/** A camera's lines and zones as one value: what the admin API replaces at once. */
export const CameraGeometrySchema = z
  .object({
    lines: z.array(CountingLineSchema).max(32).default([]),
    zones: z.array(CountingZoneSchema).max(32).default([]),
  })
  .strict()
  .superRefine((g, ctx) => checkUniqueNames(g, ctx));
export type CameraGeometry = z.infer<typeof CameraGeometrySchema>;

export const NO_GEOMETRY: CameraGeometry = { lines: [], zones: [] };

/** Line and zone names share one namespace per camera: a name says which counts, never two things. */
export function checkUniqueNames(
  g: { readonly lines: readonly { name: string }[]; readonly zones: readonly { name: string }[] },
  ctx: z.RefinementCtx,
  path: readonly (string | number)[] = [],
): void {
  const seen = new Set<string>();
  const check = (kind: 'lines' | 'zones') =>
    g[kind].forEach((item, i) => {
      if (seen.has(item.name))
        ctx.addIssue({
          code: 'custom',
          path: [...path, kind, i, 'name'],
          message: `duplicate name "${item.name}": line and zone names are unique per camera`,
        });
      seen.add(item.name);
    });
  check('lines');
  check('zones');
}
