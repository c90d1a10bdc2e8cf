import { describe, expect, it } from 'vitest';
import { keepProcessHandlers, tfjsRuntime } from './tfjs-runtime';

const events = ['uncaughtException', 'unhandledRejection'] as const;
const listenerCounts = (): number[] => events.map((e) => process.listenerCount(e));

describe('keepProcessHandlers', () => {
  it('takes off the process handlers that start added, and keeps those that were there', async () => {
    const mine = (): void => undefined;
    process.on('unhandledRejection', mine);
    try {
      const before = listenerCounts();
      await keepProcessHandlers(async () => {
        process.on('uncaughtException', () => undefined);
        process.on('unhandledRejection', () => undefined);
        expect(listenerCounts()).toEqual(before.map((n) => n + 1));
      });
      expect(listenerCounts()).toEqual(before);
      expect(process.listeners('unhandledRejection')).toContain(mine);
    } finally {
      process.off('unhandledRejection', mine);
    }
  });

  it('cleans up when start fails, and passes the failure on', async () => {
    const before = listenerCounts();
    await expect(
      keepProcessHandlers(async () => {
        process.on('unhandledRejection', () => undefined);
        throw new Error('backend refused');
      }),
    ).rejects.toThrow('backend refused');
    expect(listenerCounts()).toEqual(before);
  });
});

describe('tfjsRuntime', () => {
  it('starts the wasm backend without leaving emscripten rethrowing handlers on the process', async () => {
    const before = listenerCounts();
    const runtime = await tfjsRuntime();
    expect(runtime.backend).toBe('tfjs-wasm');
    expect(listenerCounts()).toEqual(before);
  }, 60_000);
});
