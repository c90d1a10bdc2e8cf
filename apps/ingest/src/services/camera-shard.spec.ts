import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfig } from '@crowdlens/config';
import { CameraShard } from './camera-shard';

const ids = Array.from({ length: 600 }, (_, i) => `cam-${i}`);

describe('CameraShard (rendezvous hashing of camera ids)', () => {
  it('gives every camera to exactly one of n processes, in near-equal shares', () => {
    const shards = [0, 1, 2].map((index) => new CameraShard({ index, count: 3 }));
    const shares = shards.map((s) => ids.filter((id) => s.owns(id)));
    for (const id of ids) expect(shards.filter((s) => s.owns(id))).toHaveLength(1);
    expect(shares.flat().sort()).toEqual([...ids].sort());
    // 200 expected each; a binomial share of 600 at p = 1/3 stays within ±45 of it.
    for (const share of shares) expect(Math.abs(share.length - 200)).toBeLessThan(45);
  });

  it('is deterministic across instances (every process decides alone)', () => {
    const a = new CameraShard({ index: 1, count: 4 });
    const b = new CameraShard({ index: 3, count: 4 });
    for (const id of ids.slice(0, 50)) expect(a.ownerOf(id)).toBe(b.ownerOf(id));
  });

  it('going from 3 to 4 processes moves only the cameras the new process wins', () => {
    const three = new CameraShard({ index: 0, count: 3 });
    const four = new CameraShard({ index: 0, count: 4 });
    const moved = ids.filter((id) => three.ownerOf(id) !== four.ownerOf(id));
    for (const id of moved) expect(four.ownerOf(id)).toBe(3);
    expect(moved.length).toBeGreaterThan(100);
    expect(moved.length).toBeLessThan(200);
  });

  it('one process owns everything', () => {
    expect(ids.every((id) => CameraShard.WHOLE.owns(id))).toBe(true);
    expect(CameraShard.WHOLE.sharded).toBe(false);
  });
});

describe('ingest.shard config', () => {
  it('parses "index/count" from the file or CROWDLENS_INGEST_SHARD (the variable wins)', () => {
    expect(parseConfig({}).ingest.shard).toBeUndefined();
    expect(parseConfig({ ingest: { shard: '2/3' } }).ingest.shard).toEqual({ index: 2, count: 3 });
    expect(loadConfig({ CROWDLENS_INGEST_SHARD: '0/2' }, { ingest: { shard: '1/2' } }).ingest.shard).toEqual({
      index: 0,
      count: 2,
    });
  });

  it.each([
    ['3/3', /index 3 is not below count 3/],
    ['1/0', /count must be between 1 and 1024/],
    ['first', /"index\/count", 0-based/],
  ])('refuses %s with a reason naming ingest.shard', (shard, reason) => {
    let err: unknown;
    try {
      parseConfig({ ingest: { shard } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain('ingest.shard');
    expect((err as Error).message).toMatch(reason);
  });
});
