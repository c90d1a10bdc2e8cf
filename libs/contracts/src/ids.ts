import { z } from 'zod';

/**
 * Camera ids: the bus key, the store key and a path segment of the admin
 * API. The same rule as the config's camera ids (the config imports it from
 * here), so a message can only name a camera that could have been configured.
 */
export const CameraIdSchema = z
  .string()
  .regex(
    /^[a-zA-Z0-9][a-zA-Z0-9_-]{0,63}$/,
    'letters, digits, "-" and "_", at most 64, starting with a letter or digit',
  );

/** Longest message id (crop, prediction, track, track event); ingest's are under 120 characters. */
export const MAX_MESSAGE_ID_LENGTH = 256;

/**
 * Crop, prediction, track and track-event ids: they become primary keys, so
 * what a database cannot store is refused at the bus instead of blocking a
 * consumer — no control characters (PostgreSQL rejects a NUL in text, SQLSTATE
 * 22021), no lone UTF-16 surrogates (they would be stored as U+FFFD, so two
 * different ids could become one), no surrounding spaces, bounded length.
 */
export const MessageIdSchema = z
  .string()
  .min(1)
  .max(MAX_MESSAGE_ID_LENGTH)
  .regex(/^[^\p{Cc}\p{Cs}]*$/u, 'no control characters or lone surrogates')
  .refine((id) => id.trim() === id, 'no leading or trailing spaces');
