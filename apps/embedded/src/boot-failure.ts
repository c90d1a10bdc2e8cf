import { ConfigError } from '@crowdlens/config';
import { ModelValidationError } from '@crowdlens/models';

export interface BootFailure {
  /** What main prints to stderr, newline included. */
  readonly text: string;
  readonly exitCode: number;
}

/**
 * How a failed start reads on the terminal. A bad config or a refused model
 * is the user's to fix, and its message already says what and how: one line,
 * no stack (an injector trace says nothing to them). Anything else is a bug
 * or an outage and keeps its stack.
 */
export function describeBootFailure(err: unknown): BootFailure {
  if (err instanceof ConfigError) return { text: `${err.message}\n`, exitCode: 2 };
  if (err instanceof ModelValidationError) {
    return { text: `CrowdLens cannot serve the model [${err.problem}]: ${err.message}\n`, exitCode: 3 };
  }
  const listen = listenFailure(err);
  if (listen) return { text: `${listen}\n`, exitCode: 4 };
  const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
  return { text: `CrowdLens failed to start: ${detail}\n`, exitCode: 1 };
}

interface ListenError extends Error {
  readonly code: string;
  readonly syscall: 'listen';
  readonly address?: string;
  readonly port?: number;
}

function isListenError(err: unknown): err is ListenError {
  return (
    err instanceof Error &&
    (err as Partial<ListenError>).syscall === 'listen' &&
    typeof (err as Partial<ListenError>).code === 'string'
  );
}

/** A port that is taken or not ours to bind is a setting to change, not a bug: say which and how. */
function listenFailure(err: unknown): string | null {
  if (!isListenError(err)) return null;
  const where = `${err.address ?? 'the configured host'}:${err.port ?? '?'}`;
  if (err.code === 'EADDRINUSE') {
    return `CrowdLens cannot listen on ${where}: another process already uses that port. Stop it, or choose another port with PORT=<n> (or http.port in the config).`;
  }
  if (err.code === 'EACCES') {
    return `CrowdLens cannot listen on ${where}: permission denied (ports below 1024 need privileges). Choose a port above 1023 with PORT=<n> (or http.port).`;
  }
  if (err.code === 'EADDRNOTAVAIL') {
    return `CrowdLens cannot listen on ${where}: this machine has no such address. Set CROWDLENS_HTTP_HOST (or http.host) to one of its addresses, 127.0.0.1 or 0.0.0.0.`;
  }
  return null;
}
