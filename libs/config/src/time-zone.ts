import { z } from 'zod';

/** Whether this runtime's Intl knows the zone: what every use of the name (bucketing, formatting) relies on. */
export function isKnownTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** An IANA time zone name (Europe/Paris, Asia/Kolkata, UTC), checked against Intl at boot. */
export const TimeZoneSchema = z
  .string()
  .min(1)
  .refine(isKnownTimeZone, { message: 'not a known IANA time zone (e.g. Europe/Paris, Asia/Kolkata, UTC)' });

/** Settings of a camera group (a store or zone) that its cameras share. */
export const CameraGroupConfigSchema = z
  .object({
    timeZone: TimeZoneSchema.optional().describe(
      "the store's local time zone: its hour and day buckets and peak hours; default analytics.timeZone",
    ),
  })
  .strict();
export type CameraGroupConfig = z.infer<typeof CameraGroupConfigSchema>;
