/**
 * Thrown by a handler that could not consume a message for a reason outside
 * the message: its database is down and the process is stopping mid-retry.
 * The message is fine, so the bus must not dead-letter it. Kafka leaves its
 * offset uncommitted and delivers it again (after a restart, to whichever
 * member owns the partition). The in-memory bus cannot keep it past the
 * process and counts it as dropped.
 */
export class RetryLaterError extends Error {
  override readonly name = 'RetryLaterError';
}
