import { z } from 'zod';

/** The operators' live view: each camera's latest analysed frame, in memory only. */
export const LiveViewConfigSchema = z
  .object({
    blurFaces: z
      .boolean()
      .default(true)
      .describe(
        'blur faces (every detected face and the head of every detected person) in snapshots; ' +
          'false lets admins, and only admins, see the picture unblurred (operators always get it blurred)',
      ),
    jpegQuality: z.number().int().min(30).max(95).default(70),
    minIntervalMs: z
      .number()
      .int()
      .min(100)
      .default(400)
      .describe('a camera is encoded at most this often; requests in between get the same JPEG'),
    ingestUrls: z
      .array(z.url({ protocol: /^https?$/ }))
      .default([])
      .describe(
        'analytics in the distributed mode: base URLs of the ingest processes (e.g. http://ingest-0:3001); ' +
          'a snapshot is fetched from the one that reads the camera, never stored',
      ),
  })
  .strict();
export type LiveViewConfig = z.infer<typeof LiveViewConfigSchema>;
