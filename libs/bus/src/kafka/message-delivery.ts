/**
 * Consuming: one fetched batch of one partition through the subscription's
 * window (partition-window.ts), each message decoded and checked against its
 * topic's contract, handed to the handler, and dead-lettered when it or its
 * handler is at fault. A message is done — its offset may be committed —
 * once its handler resolved or its letter is safely in the dead-letter topic.
 */
import { DEAD_LETTERS_TOPIC, DEAD_LETTER_SCHEMA_VERSION, type DeadLetter, type Topic } from '@crowdlens/contracts';
import type { EachBatchPayload, IHeaders, KafkaMessage } from 'kafkajs';
import type { MessageHandler, MessageMeta, SubscribeOptions } from '../message-bus.port';
import { RetryLaterError } from '../retry-later.error';
import { BinaryCodecError, decodeBinary, decodeBinaryHeader } from './binary-codec';
import type { BusLogger } from './kafkajs-logger';
import { runPartitionWindow, WindowHandlerError } from './partition-window';

export const CONTENT_TYPE_HEADER = 'content-type';
export const SCHEMA_VERSION_HEADER = 'schema-version';

/** Why a message could not be delivered; becomes the dead letter's reason. */
class RejectedMessage extends Error {
  override readonly name = 'RejectedMessage';
}

/** One topic and group's counts in this process, over all its subscriptions. */
export class GroupCounters {
  delivered = 0;
  failed = 0;
  /** One map per live subscription: partition -> messages behind the high watermark after its last batch. */
  readonly lags = new Set<Map<number, number>>();

  get queued(): number {
    let n = 0;
    for (const lag of this.lags) for (const v of lag.values()) n += v;
    return n;
  }
}

export interface DeliveryContext {
  readonly topic: Topic;
  readonly options: SubscribeOptions;
  readonly counters: GroupCounters;
  readonly handler: MessageHandler<unknown>;
  readonly heartbeatIntervalMs: number;
  readonly logger: BusLogger;
  /** Publishes a dead letter; rejects if the broker did not take it (the message is then fetched again). */
  readonly publishDeadLetter: (letter: DeadLetter) => Promise<void>;
  /** Counts every dead-lettered message of the bus. */
  readonly onDeadLetter: () => void;
}

/** One fetched batch of one partition through the subscription's window. */
export async function deliverBatch(ctx: DeliveryContext, payload: EachBatchPayload): Promise<void> {
  const { batch } = payload;
  try {
    await runPartitionWindow(
      batch.messages,
      (message) => deliver(ctx, batch.partition, message),
      {
        resolveOffset: (offset) => payload.resolveOffset(offset),
        heartbeat: () => payload.heartbeat(),
        commitIfDue: () => payload.commitOffsetsIfNecessary(),
        isRunning: () => payload.isRunning(),
        isStale: () => payload.isStale(),
      },
      { concurrency: ctx.options.concurrency ?? 1, heartbeatIntervalMs: ctx.heartbeatIntervalMs },
    );
  } catch (err) {
    if (err instanceof WindowHandlerError) {
      ctx.logger.error(
        {
          topic: ctx.topic.name,
          group: ctx.options.group,
          partition: batch.partition,
          offset: err.offset,
          err: err.message,
        },
        'kafka: message neither handled nor dead-lettered; it will be fetched again',
      );
    }
    throw err;
  }
}

async function deliver(ctx: DeliveryContext, partition: number, message: KafkaMessage): Promise<void> {
  const { topic, counters, handler } = ctx;
  const key = message.key ? message.key.toString('utf8') : null;
  const meta: MessageMeta = {
    topic: topic.name,
    key: key ?? '',
    partition,
    offset: message.offset,
    timestamp: Number(message.timestamp),
  };
  let value: unknown;
  try {
    value = decode(topic, message);
  } catch (err) {
    counters.failed++;
    await deadLetter(ctx, message, partition, key, err as Error);
    return;
  }
  try {
    await handler(value, meta);
    counters.delivered++;
  } catch (err) {
    // Not the message's fault: leave it uncommitted so it is fetched again.
    if (err instanceof RetryLaterError) throw err;
    counters.failed++;
    const error = err instanceof Error ? err : new Error(String(err));
    await deadLetter(ctx, message, partition, key, new Error(`handler: ${error.message}`));
  }
}

/**
 * Parks a message the consumer could not accept. Awaited before the offset
 * moves on: if this throws, kafkajs redelivers instead of losing it.
 */
async function deadLetter(
  ctx: DeliveryContext,
  message: KafkaMessage,
  partition: number,
  key: string | null,
  error: Error,
): Promise<void> {
  const { topic, options } = ctx;
  ctx.onDeadLetter();
  const reason = `${options.group}: ${error.message}`;
  ctx.logger.warn(
    { topic: topic.name, group: options.group, partition, offset: message.offset, key, reason },
    'kafka: message dead-lettered',
  );
  // A failing dead-letter consumer must not feed its own input.
  if (topic.name === DEAD_LETTERS_TOPIC.name) return;
  await ctx.publishDeadLetter({
    schemaVersion: DEAD_LETTER_SCHEMA_VERSION,
    sourceTopic: topic.name,
    key,
    reason,
    payloadBase64: deadLetterPayload(topic, message.value),
    partition,
    offset: message.offset,
    failedAt: Date.now(),
  });
}

/** Headers, codec and schema: anything wrong here is the message's fault, never retried. */
function decode(topic: Topic, message: KafkaMessage): unknown {
  const contentType = header(message.headers, CONTENT_TYPE_HEADER);
  if (contentType !== undefined && contentType !== topic.contentType) {
    throw new RejectedMessage(`content-type ${contentType}, expected ${topic.contentType}`);
  }
  const version = header(message.headers, SCHEMA_VERSION_HEADER);
  if (version !== undefined && version !== String(topic.schemaVersion)) {
    throw new RejectedMessage(`schema version ${version}, expected ${topic.schemaVersion}`);
  }
  if (!message.value || message.value.byteLength === 0) throw new RejectedMessage('empty message');
  let raw: unknown;
  if (topic.contentType === 'application/json') {
    try {
      raw = JSON.parse(message.value.toString('utf8'));
    } catch (err) {
      throw new RejectedMessage(`invalid JSON: ${(err as Error).message}`);
    }
  } else {
    try {
      raw = decodeBinary(message.value);
    } catch (err) {
      throw new RejectedMessage(`invalid binary frame: ${(err as Error).message}`);
    }
  }
  const parsed = topic.schema.safeParse(raw);
  if (!parsed.success) throw new RejectedMessage(`schema: ${parsed.error.message}`);
  return parsed.data;
}

/** JSON topics keep the original bytes; binary topics keep only the header fields, never the image (privacy). */
function deadLetterPayload(topic: Topic, value: Buffer | null): string {
  if (!value) return '';
  if (topic.contentType === 'application/json') return value.toString('base64');
  try {
    return Buffer.from(JSON.stringify(decodeBinaryHeader(value).fields), 'utf8').toString('base64');
  } catch (err) {
    if (err instanceof BinaryCodecError) return '';
    throw err;
  }
}

function header(headers: IHeaders | undefined, name: string): string | undefined {
  const v = headers?.[name];
  if (v === undefined) return undefined;
  const first = Array.isArray(v) ? v[0] : v;
  return first === undefined ? undefined : first.toString();
}
