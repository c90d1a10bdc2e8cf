import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { describe, expect, it } from 'vitest';
import { createLogger } from '@crowdlens/runtime';
import { PinoNestLogger } from './pino-nest-logger';

class RefusedModel extends Error {}

@Module({ providers: [{ provide: 'MODEL', useFactory: () => Promise.reject(new RefusedModel('bad sha256')) }] })
class FailingModule {}

async function bootLines(options: { callerReportsBootErrors?: boolean }): Promise<Array<Record<string, unknown>>> {
  const lines: string[] = [];
  const logger = createLogger('info', 'test', { write: (line: string) => void lines.push(line) });
  await expect(
    NestFactory.create(FailingModule, { logger: new PinoNestLogger(logger, options), abortOnError: false }),
  ).rejects.toBeInstanceOf(RefusedModel);
  return lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((e) => e.level === 50);
}

describe('PinoNestLogger', () => {
  it('leaves a boot error to the caller that reports it, instead of logging it a second time', async () => {
    expect(await bootLines({ callerReportsBootErrors: true })).toEqual([]);
  });

  it('logs it as an error otherwise', async () => {
    const errors = await bootLines({});
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ context: 'ExceptionHandler', msg: expect.stringContaining('bad sha256') });
  });
});
