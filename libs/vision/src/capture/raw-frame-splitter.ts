/**
 * Cuts ffmpeg's rawvideo byte stream into whole frames. Pipe reads arrive in
 * arbitrary chunk sizes (64 KiB typically, a 640x360 RGB frame is 675 KiB), so
 * a frame is assembled across chunks and one chunk can finish one frame and
 * start the next.
 *
 * Every frame gets its own exactly-sized ArrayBuffer (never a slice of a
 * pooled buffer or of a pipe chunk): detector workers take it by transfer,
 * which requires owning the whole buffer.
 *
 * Bytes can arrive before the frame size is known (stdout and stderr are
 * separate pipes with no ordering between them); they are held, up to a
 * limit, until `setFrameSize` is called.
 */
export class RawFrameSplitter {
  private frameSize = 0;
  private current: Buffer | null = null;
  private filled = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(
    private readonly onFrame: (data: Buffer) => void,
    /** Bytes held while the size is unknown; beyond it `push` throws. */
    private readonly maxPendingBytes = 64 * 1024 * 1024,
  ) {}

  get knowsFrameSize(): boolean {
    return this.frameSize > 0;
  }

  /** Bytes of an incomplete frame held right now. */
  get bufferedBytes(): number {
    return this.frameSize > 0 ? this.filled : this.pendingBytes;
  }

  setFrameSize(bytes: number): void {
    if (!Number.isInteger(bytes) || bytes <= 0)
      throw new RangeError(`frame size must be a positive integer, got ${bytes}`);
    if (this.frameSize > 0) {
      if (bytes !== this.frameSize)
        throw new Error(`frame size changed mid-stream from ${this.frameSize} to ${bytes} bytes`);
      return;
    }
    this.frameSize = bytes;
    const held = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    for (const chunk of held) this.push(chunk);
  }

  push(chunk: Buffer): void {
    if (this.frameSize === 0) {
      this.pendingBytes += chunk.length;
      if (this.pendingBytes > this.maxPendingBytes) {
        throw new Error(`received ${this.pendingBytes} bytes of video before the frame size was known`);
      }
      // Pipe chunks may be reused by the stream after the callback: keep a copy.
      this.pending.push(Buffer.from(chunk));
      return;
    }
    let offset = 0;
    while (offset < chunk.length) {
      if (!this.current) {
        // allocUnsafeSlow: never from the shared pool, so the ArrayBuffer is exactly one frame.
        this.current = Buffer.allocUnsafeSlow(this.frameSize);
        this.filled = 0;
      }
      const n = Math.min(this.frameSize - this.filled, chunk.length - offset);
      chunk.copy(this.current, this.filled, offset, offset + n);
      this.filled += n;
      offset += n;
      if (this.filled === this.frameSize) {
        const frame = this.current;
        this.current = null;
        this.filled = 0;
        this.onFrame(frame);
      }
    }
  }
}
