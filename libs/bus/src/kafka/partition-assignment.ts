/**
 * What a rebalance changed for one consumer: the partitions it gained and
 * lost. The bus logs one line per change, so a failover reads as "this
 * process took partitions 2,3" instead of kafkajs' "The group is rebalancing".
 */
export interface AssignmentChange {
  /** Everything this consumer owns now, ascending. */
  readonly partitions: readonly number[];
  readonly assigned: readonly number[];
  readonly revoked: readonly number[];
}

const ascending = (a: number, b: number): number => a - b;

/** `null` when the rebalance left this consumer's partitions as they were. */
export function assignmentChange(previous: ReadonlySet<number>, next: readonly number[]): AssignmentChange | null {
  const now = new Set(next);
  const assigned = [...now].filter((p) => !previous.has(p)).sort(ascending);
  const revoked = [...previous].filter((p) => !now.has(p)).sort(ascending);
  if (assigned.length === 0 && revoked.length === 0) return null;
  return { partitions: [...now].sort(ascending), assigned, revoked };
}
