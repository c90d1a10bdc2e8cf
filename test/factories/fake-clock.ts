import type { Clock } from '@crowdlens/runtime';

/**
 * A clock the test moves by hand. `advance` moves both readings, as time passing does; `stepWall`
 * moves the wall clock alone, as NTP or an operator does (forwards or back).
 */
export class FakeClock implements Clock {
  constructor(
    private wall = Date.UTC(2026, 0, 5, 9, 0, 0),
    private mono = 1_000,
  ) {}

  now(): number {
    return this.wall;
  }

  monotonicMs(): number {
    return this.mono;
  }

  advance(ms: number): void {
    this.wall += ms;
    this.mono += ms;
  }

  stepWall(ms: number): void {
    this.wall += ms;
  }
}
