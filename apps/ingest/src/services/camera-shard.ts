import { createHash } from 'node:crypto';
import type { IngestShard } from '@crowdlens/config';

/**
 * Which ingest process of `count` reads a camera. Rendezvous (highest random
 * weight) hashing on the camera id: every process decides alone, from the
 * same config file, with no coordination; and going from n to n+1 processes
 * moves only the cameras the new process wins (about 1/(n+1) of them), so
 * the other processes keep their streams and their trackers.
 */
export class CameraShard {
  static readonly WHOLE = new CameraShard({ index: 0, count: 1 });

  constructor(private readonly shard: IngestShard) {}

  get index(): number {
    return this.shard.index;
  }

  get count(): number {
    return this.shard.count;
  }

  get sharded(): boolean {
    return this.shard.count > 1;
  }

  /** The index of the process that reads `cameraId`. */
  ownerOf(cameraId: string): number {
    if (this.shard.count === 1) return 0;
    let best = 0;
    let bestWeight = -1n;
    for (let i = 0; i < this.shard.count; i++) {
      const weight = createHash('sha256').update(`${cameraId}\u0000${i}`).digest().readBigUInt64BE(0);
      if (weight > bestWeight) {
        best = i;
        bestWeight = weight;
      }
    }
    return best;
  }

  owns(cameraId: string): boolean {
    return this.ownerOf(cameraId) === this.shard.index;
  }

  /** "shard 1/3", for logs and error messages. */
  describe(index = this.shard.index): string {
    return `shard ${index}/${this.shard.count}`;
  }
}
