import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from './load-config';

describe('detector config', () => {
  it('defaults to SSD on the automatic engine with one worker per core, at most 8', () => {
    const { detector } = parseConfig({});
    expect(detector).toMatchObject({ type: 'ssd', engine: 'auto', workers: Math.min(8, availableParallelism()) });
  });

  it('refuses the onnx engine for the Tiny detector, naming the field and the way out', () => {
    let err: unknown;
    try {
      parseConfig({ detector: { type: 'tiny', engine: 'onnx' } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain('detector.engine');
    expect((err as Error).message).toMatch(/cannot run Tiny/);
    expect(parseConfig({ detector: { type: 'tiny' } }).detector.engine).toBe('auto');
  });

  it('gives each detector type its own measured input size and score floor unless set', () => {
    expect(parseConfig({}).detector).toMatchObject({ inputSize: 416, minScore: 0.5 });
    expect(parseConfig({ detector: { type: 'tiny' } }).detector).toMatchObject({ inputSize: 416, minScore: 0.5 });
    expect(parseConfig({ detector: { type: 'retinaface' } }).detector).toMatchObject({
      inputSize: 640,
      minScore: 0.6,
    });
    expect(parseConfig({ detector: { type: 'retinaface', inputSize: 416, minScore: 0.75 } }).detector).toMatchObject({
      inputSize: 416,
      minScore: 0.75,
    });
    expect(() => parseConfig({ detector: { type: 'retinaface', inputSize: 500 } })).toThrow(/detector\.inputSize/);
  });

  it('accepts RetinaFace on onnx or auto and refuses it on TF.js, naming the field', () => {
    expect(parseConfig({ detector: { type: 'retinaface' } }).detector).toMatchObject({
      type: 'retinaface',
      engine: 'auto',
    });
    expect(parseConfig({ detector: { type: 'retinaface', engine: 'onnx', inputSize: 640 } }).detector.inputSize).toBe(
      640,
    );
    expect(() => parseConfig({ detector: { type: 'retinaface', engine: 'tfjs' } })).toThrow(
      /detector\.engine[\s\S]*cannot run RetinaFace/,
    );
  });
});
