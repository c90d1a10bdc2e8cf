import type { Message, Producer, TopicMessages } from 'kafkajs';
import type { SendQueueStats } from '../message-bus.port';

export interface SendQueueLimits {
  /** Bytes (keys + values) one produce request may carry; stays under the broker's 1 MiB batch limit. */
  readonly maxBatchBytes: number;
  readonly maxBatchMessages: number;
  /** Messages queued behind the request in flight; more publishes wait for room. */
  readonly maxQueuedMessages: number;
  /** Bytes queued behind the request in flight; more publishes wait for room. */
  readonly maxQueuedBytes: number;
}

interface Pending {
  readonly topic: string;
  readonly message: Message;
  readonly bytes: number;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

/**
 * Group commit for the producer. kafkajs sends one request per `send`, and an
 * idempotent producer keeps one request in flight, so a message per request
 * would cap throughput at one broker round trip per message. Here the first
 * publish goes out at once and everything published while it is in flight
 * rides the next request: no linger delay when idle, full batches under load,
 * and order is kept (one request at a time). Each caller's promise settles
 * when its own message is acknowledged (acks=all) or finally failed.
 *
 * Bounded: while `maxQueuedMessages` or `maxQueuedBytes` are queued (a slow
 * or unreachable broker), a further message waits outside the queue, in
 * arrival order, and is let in as requests complete — backpressure on the
 * publisher, whose promise simply takes longer; nothing is dropped. A single
 * message larger than the byte bound is let in once the queue is empty (the
 * broker's answer is the error to report). `stats().waitedTotal` counts the waits.
 */
export class SendQueue {
  private readonly pending: Pending[] = [];
  /** Publishes waiting for room, oldest first. */
  private readonly overflow: Pending[] = [];
  private queuedBytes = 0;
  private waitedTotal = 0;
  private draining: Promise<void> | null = null;

  constructor(
    private readonly producer: Producer,
    private readonly limits: SendQueueLimits,
  ) {}

  /** Messages queued (not counting those waiting for room or in the request in flight). */
  get size(): number {
    return this.pending.length;
  }

  stats(): SendQueueStats {
    return {
      queuedMessages: this.pending.length,
      queuedBytes: this.queuedBytes,
      waiting: this.overflow.length,
      waitedTotal: this.waitedTotal,
    };
  }

  send(topic: string, message: Message): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const bytes = byteLength(message.key) + byteLength(message.value) + 64;
      const entry = { topic, message, bytes, resolve, reject };
      // Behind earlier waiters even if it would fit: order is kept.
      if (this.overflow.length > 0 || !this.hasRoom(bytes)) {
        this.waitedTotal++;
        this.overflow.push(entry);
      } else {
        this.enqueue(entry);
      }
      if (!this.draining) this.draining = this.drain();
    });
  }

  /** Resolves when everything queued so far has been sent (or failed). */
  async flush(): Promise<void> {
    while (this.draining) await this.draining;
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending.length > 0 || this.overflow.length > 0) {
        this.admit();
        const batch = this.take();
        const byTopic = new Map<string, Message[]>();
        for (const p of batch) {
          const list = byTopic.get(p.topic) ?? [];
          list.push(p.message);
          byTopic.set(p.topic, list);
        }
        const topicMessages: TopicMessages[] = [...byTopic].map(([topic, messages]) => ({ topic, messages }));
        try {
          await this.producer.sendBatch({ topicMessages, acks: -1 });
          for (const p of batch) p.resolve();
        } catch (err) {
          const error = err instanceof Error ? err : new Error(String(err));
          for (const p of batch) p.reject(error);
        }
      }
    } finally {
      this.draining = null;
    }
  }

  private hasRoom(bytes: number): boolean {
    if (this.pending.length === 0) return true;
    return (
      this.pending.length < this.limits.maxQueuedMessages && this.queuedBytes + bytes <= this.limits.maxQueuedBytes
    );
  }

  private enqueue(entry: Pending): void {
    this.pending.push(entry);
    this.queuedBytes += entry.bytes;
  }

  /** Lets waiting publishes in, oldest first, as far as there is room. */
  private admit(): void {
    while (this.overflow.length > 0 && this.hasRoom(this.overflow[0]!.bytes)) this.enqueue(this.overflow.shift()!);
  }

  private take(): Pending[] {
    let bytes = 0;
    let n = 0;
    while (n < this.pending.length && n < this.limits.maxBatchMessages) {
      const next = this.pending[n]!;
      // Always take at least one, even an oversized one: the broker's answer is the error to report.
      if (n > 0 && bytes + next.bytes > this.limits.maxBatchBytes) break;
      bytes += next.bytes;
      n++;
    }
    const taken = this.pending.splice(0, n);
    this.queuedBytes -= bytes;
    this.admit();
    return taken;
  }
}

function byteLength(v: Buffer | string | null | undefined): number {
  if (v == null) return 0;
  return typeof v === 'string' ? Buffer.byteLength(v) : v.byteLength;
}
