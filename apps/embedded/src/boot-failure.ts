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
  const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
  return { text: `CrowdLens failed to start: ${detail}\n`, exitCode: 1 };
}
