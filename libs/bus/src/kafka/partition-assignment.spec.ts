import { describe, expect, it } from 'vitest';
import { assignmentChange } from './partition-assignment';

describe('assignmentChange', () => {
  it('reports the first assignment as all assigned', () => {
    expect(assignmentChange(new Set(), [2, 0, 1])).toEqual({ partitions: [0, 1, 2], assigned: [0, 1, 2], revoked: [] });
  });

  it('reports what a failover moved, both ways', () => {
    expect(assignmentChange(new Set([0, 1]), [1, 2, 3])).toEqual({
      partitions: [1, 2, 3],
      assigned: [2, 3],
      revoked: [0],
    });
  });

  it('reports losing every partition', () => {
    expect(assignmentChange(new Set([0, 1]), [])).toEqual({ partitions: [], assigned: [], revoked: [0, 1] });
  });

  it('is null when a rebalance changed nothing for this consumer', () => {
    expect(assignmentChange(new Set([1, 0]), [0, 1])).toBeNull();
    expect(assignmentChange(new Set(), [])).toBeNull();
  });
});
