import type { Message, Producer, TopicMessages } from 'kafkajs';

export interface SendQueueLimits {
  /** Bytes (keys + values) one produce request may carry; stays under the broker's 1 MiB batch limit. */
  readonly maxBatchBytes: number;
  readonly maxBatchMessages: number;
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
 */
export class SendQueue {
  private readonly pending: Pending[] = [];
  private draining: Promise<void> | null = null;

  constructor(
    private readonly producer: Producer,
    private readonly limits: SendQueueLimits,
  ) {}

  get size(): number {
    return this.pending.length;
  }

  send(topic: string, message: Message): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const bytes = byteLength(message.key) + byteLength(message.value) + 64;
      this.pending.push({ topic, message, bytes, resolve, reject });
      if (!this.draining) this.draining = this.drain();
    });
  }

  /** Resolves when everything queued so far has been sent (or failed). */
  async flush(): Promise<void> {
    while (this.draining) await this.draining;
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending.length > 0) {
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
    return this.pending.splice(0, n);
  }
}

function byteLength(v: Buffer | string | null | undefined): number {
  if (v == null) return 0;
  return typeof v === 'string' ? Buffer.byteLength(v) : v.byteLength;
}
