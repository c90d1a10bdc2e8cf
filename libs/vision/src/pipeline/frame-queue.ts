/**
 * The hand-off between capture and detection. Live cameras never wait for
 * detection: when the queue is full the oldest frame is dropped (it is the
 * least useful one) and counted. Frigate uses the same 2-slot idea.
 */
export class DropOldestQueue<T> {
  private readonly items: T[] = [];

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`queue capacity must be >= 1, got ${capacity}`);
  }

  get size(): number {
    return this.items.length;
  }

  get full(): boolean {
    return this.items.length >= this.capacity;
  }

  /** Adds the item; returns the item dropped to make room, if any. */
  push(item: T): T | undefined {
    const dropped = this.items.length >= this.capacity ? this.items.shift() : undefined;
    this.items.push(item);
    return dropped;
  }

  /**
   * Adds without dropping, past capacity if need be. Only for a paused
   * source: frames it had already read arrive after the pause.
   */
  append(item: T): void {
    this.items.push(item);
  }

  shift(): T | undefined {
    return this.items.shift();
  }

  clear(): T[] {
    return this.items.splice(0);
  }
}
