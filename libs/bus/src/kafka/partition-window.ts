/**
 * One fetched batch of one partition, handled with up to `concurrency`
 * messages in flight — a sliding window over the batch, so a consumer that
 * batches (inference's dynamic batcher) sees more than one message of a
 * partition at a time.
 *
 * Commits stay at-least-once: only the highest offset below which every
 * message has completed (the contiguous prefix) is ever resolved, so a crash
 * with a slow message at the front of the window redelivers it and every
 * message after it, completed or not. Out-of-order completion is allowed
 * (the port says so for concurrency > 1).
 */

export interface WindowMessage {
  readonly offset: string;
}

/** The slice of kafkajs' eachBatch payload the window drives. */
export interface WindowControls {
  /** Marks `offset` and everything before it as processed (kafkajs commits resolved offsets). */
  resolveOffset(offset: string): void;
  /** Keeps the group membership alive; rejects when the group is rebalancing or gone. */
  heartbeat(): Promise<void>;
  /** Commits resolved offsets if the commit interval has passed. */
  commitIfDue(): Promise<void>;
  /** False once the consumer is stopping: no new message may start. */
  isRunning(): boolean;
  /** True once a seek made the rest of this batch obsolete. */
  isStale(): boolean;
}

export interface WindowOptions {
  /** Messages of this partition in flight at once (>= 1). */
  readonly concurrency: number;
  /** How often to heartbeat (and consider a commit) while handlers are slow. */
  readonly heartbeatIntervalMs: number;
}

export interface WindowResult {
  /** Messages whose handler was started. */
  readonly started: number;
  /** Length of the completed prefix, i.e. how many offsets were resolved. */
  readonly resolved: number;
  /** Largest number of handlers in flight at once. */
  readonly peakInFlight: number;
  /** Why intake stopped before the end of the batch, if it did. */
  readonly stoppedBy: 'end' | 'stopping' | 'stale' | 'failure' | 'group';
}

/** A handler failed (its message could not even be dead-lettered): the batch stops short of it. */
export class WindowHandlerError extends Error {
  override readonly name = 'WindowHandlerError';
  constructor(
    readonly offset: string,
    override readonly cause: unknown,
  ) {
    super(`message at offset ${offset} failed: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}

/**
 * Runs `handle` over `messages` (one partition, ascending offsets). Returns
 * once every started handler settled. Throws — after the in-flight handlers
 * settled and the completed prefix was resolved — when a handler rejected
 * (WindowHandlerError) or the group membership failed (the heartbeat's or
 * commit's error, which kafkajs turns into a rejoin or a retry). Either way
 * nothing past the first unfinished message is resolved, so kafkajs fetches
 * again from there.
 */
export async function runPartitionWindow<M extends WindowMessage>(
  messages: readonly M[],
  handle: (message: M) => Promise<void>,
  controls: WindowControls,
  options: WindowOptions,
): Promise<WindowResult> {
  const concurrency = Math.max(1, Math.floor(options.concurrency));
  const done = new Array<boolean>(messages.length).fill(false);
  // Mutated from handler callbacks, hence an object (TS does not see writes made in closures).
  const state: {
    stoppedBy: WindowResult['stoppedBy'];
    failure: WindowHandlerError | null;
    groupError: { error: unknown } | null;
    inFlight: number;
    wake: (() => void) | null;
  } = { stoppedBy: 'end', failure: null, groupError: null, inFlight: 0, wake: null };
  let next = 0;
  let prefix = 0;
  let peakInFlight = 0;
  const signal = () => {
    const w = state.wake;
    state.wake = null;
    w?.();
  };
  const stop = (why: WindowResult['stoppedBy']) => {
    if (state.stoppedBy === 'end') state.stoppedBy = why;
  };
  const advance = () => {
    const before = prefix;
    while (prefix < messages.length && done[prefix]) prefix++;
    if (prefix > before) controls.resolveOffset(messages[prefix - 1]!.offset);
  };
  const start = (index: number) => {
    const message = messages[index]!;
    state.inFlight++;
    peakInFlight = Math.max(peakInFlight, state.inFlight);
    // A handler that throws synchronously is still a rejection here.
    Promise.resolve()
      .then(() => handle(message))
      .then(
        () => {
          done[index] = true;
        },
        (err: unknown) => {
          // The lowest failing offset wins: everything from it on is redelivered.
          if (!state.failure || BigInt(message.offset) < BigInt(state.failure.offset)) {
            state.failure = new WindowHandlerError(message.offset, err);
          }
          stop('failure');
        },
      )
      .finally(() => {
        state.inFlight--;
        signal();
      });
  };

  for (;;) {
    // Fill the window; intake stops for good on shutdown, a seek, a failure or a group error.
    while (state.stoppedBy === 'end' && next < messages.length && state.inFlight < concurrency) {
      if (!controls.isRunning()) stop('stopping');
      else if (controls.isStale()) stop('stale');
      else start(next++);
    }
    if (state.inFlight === 0 && (state.stoppedBy !== 'end' || next >= messages.length)) break;

    // Wait for a completion or the heartbeat tick, whichever comes first.
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      state.wake = resolve;
      timer = setTimeout(signal, options.heartbeatIntervalMs);
    });
    clearTimeout(timer);
    advance();
    try {
      // Throttled by kafkajs to one request per heartbeat interval. After a
      // group error it goes on while the window drains: during a rebalance
      // the coordinator still counts heartbeats (answering "rebalancing"), so
      // a slow drain does not expire the member and lose the commit of what
      // it finished; kafkajs commits resolved offsets on each such answer.
      await controls.heartbeat();
      if (state.groupError === null) await controls.commitIfDue();
    } catch (error) {
      // Rebalance, lost membership or broker gone: take nothing new, finish what runs, then let kafkajs rejoin.
      if (state.groupError === null) {
        state.groupError = { error };
        stop('group');
      }
    }
  }
  advance();

  if (state.failure) throw state.failure;
  if (state.groupError) throw state.groupError.error;
  return { started: next, resolved: prefix, peakInFlight, stoppedBy: state.stoppedBy };
}
