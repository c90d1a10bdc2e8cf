import { describe, expect, it } from 'vitest';
import { fileFrameTimes } from './file-frame-times';

describe('fileFrameTimes', () => {
  it('spaces frames by the video alone, whatever fraction of a millisecond the run started at', () => {
    // 3 fps: frames k and k + 3 are exactly one second apart, the default counting.minVisitorMs.
    const durations = new Set<number>();
    for (const monoMs of [0, 1234.5678901, 98_765.4321, 5_000_000.000001, 17.999999]) {
      for (let k = 0; k < 300; k++) {
        const a = fileFrameTimes({ wallMs: 1_700_000_000_000, monoMs }, k, 3);
        const b = fileFrameTimes({ wallMs: 1_700_000_000_000, monoMs }, k + 3, 3);
        durations.add(b.monoTs - a.monoTs);
        durations.add(b.ts - a.ts);
      }
    }
    expect([...durations]).toEqual([1000]);
  });

  it('stamps whole milliseconds on both clocks, counted from the run start', () => {
    expect(fileFrameTimes({ wallMs: 1_000, monoMs: 50.6 }, 1, 3)).toEqual({ ts: 1_333, monoTs: 384 });
    expect(fileFrameTimes({ wallMs: 1_000, monoMs: 50.6 }, 0, 3)).toEqual({ ts: 1_000, monoTs: 51 });
  });
});
