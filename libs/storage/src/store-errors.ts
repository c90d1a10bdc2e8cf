/**
 * Whether a failed write can ever succeed. The writers (analytics'
 * recorders) retry a transient failure for as long as it lasts — nothing is
 * lost while the database restarts — but a permanent one is the data's
 * fault: retrying it forever would block its partition behind one message,
 * so its record is dead-lettered with the reason instead.
 *
 * Only errors the database raised about the data are permanent:
 * PostgreSQL SQLSTATE classes 22 (data exception: a NUL in text, a number
 * out of range, an invalid encoding) and 23 (integrity constraint violation);
 * SQLite's SQLITE_CONSTRAINT*, SQLITE_MISMATCH and SQLITE_TOOBIG. Everything
 * else is transient: connection failures (class 08, ECONNREFUSED, a
 * terminated connection), serialization failures and deadlocks (class 40),
 * resources (53), an operator shutting the server down (57), SQLITE_BUSY,
 * SQLITE_LOCKED, SQLITE_IOERR, SQLITE_FULL — and anything unknown, including
 * errors in our own SQL (class 42): those need a fix, not a pile of dead
 * letters, and blocking (with /ready failing and the error logged) is how
 * they get noticed.
 */
export type StoreErrorKind = 'permanent' | 'transient';

const PERMANENT_SQLSTATE_CLASSES = new Set(['22', '23']);
const PERMANENT_SQLITE_CODES = /^SQLITE_(CONSTRAINT(_[A-Z]+)?|MISMATCH|TOOBIG)$/;

export function classifyStoreError(error: unknown): StoreErrorKind {
  for (let e = error, depth = 0; e instanceof Error && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code !== 'string') continue;
    if (isPostgresServerError(e, code))
      return PERMANENT_SQLSTATE_CLASSES.has(code.slice(0, 2)) ? 'permanent' : 'transient';
    if (code.startsWith('SQLITE_')) return PERMANENT_SQLITE_CODES.test(code) ? 'permanent' : 'transient';
  }
  return 'transient';
}

/** pg's DatabaseError: an answer from the server, with a SQLSTATE and a severity (node's own errors have neither). */
function isPostgresServerError(e: Error, code: string): boolean {
  return /^[0-9A-Z]{5}$/.test(code) && typeof (e as { severity?: unknown }).severity === 'string';
}
