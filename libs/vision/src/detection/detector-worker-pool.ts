import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Logger } from '@crowdlens/runtime';
import type { Frame } from '../frame';
import type {
  DetectRequest,
  DetectorWorkerData,
  DetectorWorkerMessage,
  SceneDetectorConfig,
} from './detector-worker-protocol';
import type { FaceDetectOptions } from './face-detector.port';
import type { SceneDetections, SceneDetector } from './scene-detector.port';

const WORKER_FILE = 'detector-worker.js';
/** Where `tsc -p tsconfig.build.json` puts the compiled worker, relative to the repo root. */
const DIST_WORKER = join('dist', 'libs', 'vision', 'src', 'detection', WORKER_FILE);

function findRepoRoot(from: string): string | null {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'libs'))) return dir;
    if (dirname(dir) === dir) return null;
  }
}

/**
 * Worker threads execute JavaScript files. Compiled (`dist/.../detector-worker-pool.js`)
 * the worker sits next to this file. Run from TypeScript source (vitest, ts
 * runners) there is no JS beside us, so the compiled copy under `dist/` is
 * used; the repo must have been built (`npm run build`), and a stale build is
 * reported rather than silently used.
 */
export function resolveDetectorWorkerScript(fromFile: string = __filename, logger?: Logger): string {
  if (!fromFile.endsWith('.ts')) return join(dirname(fromFile), WORKER_FILE);
  const root = findRepoRoot(dirname(fromFile));
  if (!root) throw new Error(`cannot find the repository root above ${fromFile} to locate ${DIST_WORKER}`);
  const script = resolve(root, DIST_WORKER);
  if (!existsSync(script)) {
    throw new Error(
      `detector worker not built: ${script} is missing; run \`npm run build\` (or set detector.workers to 0)`,
    );
  }
  const source = join(dirname(fromFile), 'detector-worker.ts');
  if (logger && existsSync(source) && statSync(source).mtimeMs > statSync(script).mtimeMs) {
    logger.warn({ script }, 'compiled detector worker is older than its source; run `npm run build`');
  }
  return script;
}

interface Job {
  readonly id: number;
  readonly frame: Frame;
  readonly face: FaceDetectOptions | undefined;
  readonly resolve: (found: SceneDetections) => void;
  readonly reject: (err: Error) => void;
}

interface Slot {
  worker: Worker;
  job: Job | null;
  /** The running job's deadline (detector.jobTimeoutMs). */
  deadline: NodeJS.Timeout | null;
  ready: boolean;
}

/** A worker did not answer a frame in time: it was terminated and replaced. */
export class DetectionTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`detection did not finish within ${timeoutMs} ms (detector.jobTimeoutMs); the detector worker was restarted`);
    this.name = 'DetectionTimeoutError';
  }
}

/** How long close() waits for a worker to terminate: one stuck in native code cannot be stopped from here. */
const TERMINATE_WAIT_MS = 5_000;

export interface DetectorWorkerPoolOptions {
  readonly logger: Logger;
  /** Defaults to resolveDetectorWorkerScript(). */
  readonly workerScript?: string;
  /** Time allowed for a worker to load TF.js and the model. */
  readonly loadTimeoutMs?: number;
}

/**
 * Runs detection on `config.workers` worker threads. Frames travel by
 * transfer (zero-copy) and come back with the result. Jobs wait in a FIFO
 * when every worker is busy; its length is bounded by the callers, which keep
 * at most `concurrency` frames in flight per camera. A worker that dies fails
 * its job and is replaced; so does one that does not answer a frame within
 * `detector.jobTimeoutMs` (a hung model would otherwise hold its camera's
 * pipeline, and shutdown, forever).
 */
export class DetectorWorkerPool implements SceneDetector {
  readonly concurrency: number;
  private readonly slots: Slot[] = [];
  private readonly waiting: Job[] = [];
  private nextId = 1;
  private closed = false;
  private backendName = 'unloaded';
  private fallback: string | null = null;
  private script = '';

  private readonly workers: number;
  private readonly jobTimeoutMs: number;

  constructor(
    private readonly config: SceneDetectorConfig,
    private readonly opts: DetectorWorkerPoolOptions,
  ) {
    this.workers = config.faces.workers;
    if (this.workers < 1)
      throw new RangeError('DetectorWorkerPool needs at least one worker; use ThreadSceneDetector for 0');
    this.concurrency = this.workers;
    this.jobTimeoutMs = config.faces.jobTimeoutMs;
  }

  get detectsPeople(): boolean {
    return this.config.people !== null;
  }

  get backend(): string {
    return this.backendName;
  }

  get fallbackReason(): string | null {
    return this.fallback;
  }

  async load(): Promise<void> {
    if (this.slots.length > 0) return;
    this.script = this.opts.workerScript ?? resolveDetectorWorkerScript(__filename, this.opts.logger);
    const started = Array.from({ length: this.workers }, () => this.spawn());
    try {
      await Promise.all(started.map((s) => s.ready));
    } catch (err) {
      await this.close();
      throw err;
    }
    this.opts.logger.info(
      { workers: this.workers, backend: this.backendName, type: this.config.faces.type, people: this.detectsPeople },
      'detector workers ready',
    );
  }

  detect(frame: Frame, options?: FaceDetectOptions): Promise<SceneDetections> {
    if (this.closed) return Promise.reject(new Error('detector pool is closed'));
    if (this.slots.length === 0) return Promise.reject(new Error('DetectorWorkerPool.detect called before load()'));
    return new Promise<SceneDetections>((resolvePromise, reject) => {
      this.waiting.push({ id: this.nextId++, frame, face: options, resolve: resolvePromise, reject });
      this.dispatch();
    });
  }

  /** Jobs waiting for a free worker (not counting running ones). */
  get queued(): number {
    return this.waiting.length;
  }

  async close(): Promise<void> {
    this.closed = true;
    const err = new Error('detector pool closed');
    for (const job of this.waiting.splice(0)) job.reject(err);
    const slots = this.slots.splice(0);
    for (const slot of slots) {
      if (slot.deadline) clearTimeout(slot.deadline);
      slot.job?.reject(err);
    }
    await Promise.all(slots.map((s) => this.terminate(s)));
  }

  /** Terminates a worker, waiting a bounded time: shutdown must not hang on a worker stuck in native code. */
  private async terminate(slot: Slot): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<'gave-up'>((resolveWait) => {
      timer = setTimeout(() => resolveWait('gave-up'), TERMINATE_WAIT_MS);
      timer.unref();
    });
    const outcome = await Promise.race([slot.worker.terminate().catch(() => 'terminated'), gaveUp]);
    clearTimeout(timer);
    if (outcome === 'gave-up')
      this.opts.logger.error({ threadId: slot.worker.threadId }, 'detector worker did not terminate; left behind');
  }

  private spawn(): { slot: Slot; ready: Promise<void> } {
    const data: DetectorWorkerData = { config: this.config };
    const worker = new Worker(this.script, { workerData: data });
    const slot: Slot = { worker, job: null, deadline: null, ready: false };
    this.slots.push(slot);
    const ready = new Promise<void>((resolveReady, rejectReady) => {
      const timeout = setTimeout(
        () => rejectReady(new Error(`detector worker did not load within ${this.opts.loadTimeoutMs ?? 120_000} ms`)),
        this.opts.loadTimeoutMs ?? 120_000,
      );
      worker.on('message', (msg: DetectorWorkerMessage) => {
        switch (msg.type) {
          case 'ready':
            clearTimeout(timeout);
            slot.ready = true;
            this.backendName = msg.backend;
            this.fallback = msg.fallbackReason;
            resolveReady();
            this.dispatch();
            return;
          case 'load-error':
            clearTimeout(timeout);
            rejectReady(new Error(`detector worker failed to load: ${msg.message}`));
            return;
          case 'result':
          case 'detect-error':
            // A worker already given up on (deadline) may still answer: its slot is gone.
            if (this.slots.includes(slot)) this.complete(slot, msg);
            return;
        }
      });
      worker.on('error', (err) => {
        clearTimeout(timeout);
        rejectReady(err);
        this.opts.logger.error({ err }, 'detector worker crashed');
      });
      worker.on('exit', (code) => {
        clearTimeout(timeout);
        this.onWorkerExit(slot, code);
      });
    });
    return { slot, ready };
  }

  private onWorkerExit(slot: Slot, code: number): void {
    const index = this.slots.indexOf(slot);
    if (index < 0) return; // closed on purpose
    this.slots.splice(index, 1);
    // The frame buffer was transferred to the dead worker and is gone with it.
    if (slot.deadline) clearTimeout(slot.deadline);
    slot.deadline = null;
    slot.job?.reject(new Error(`detector worker exited (code ${code}) during detection`));
    slot.job = null;
    if (this.closed || !slot.ready) return; // a worker that never loaded would crash again in a loop
    this.opts.logger.warn({ code }, 'replacing detector worker');
    this.replace();
  }

  private replace(): void {
    this.spawn().ready.catch((err: unknown) =>
      this.opts.logger.error({ err }, 'replacement detector worker failed to load'),
    );
  }

  /**
   * The worker has not answered within the deadline: it is hung (a model stuck in a loop, a native
   * call that never returns). Its job fails, it is terminated and a new one takes its place; the
   * frame it held is lost with it.
   */
  private onJobTimeout(slot: Slot, job: Job): void {
    slot.deadline = null;
    const index = this.slots.indexOf(slot);
    if (index < 0 || slot.job !== job) return;
    this.slots.splice(index, 1);
    slot.job = null;
    this.opts.logger.error(
      { timeoutMs: this.jobTimeoutMs, threadId: slot.worker.threadId },
      'detector worker did not answer in time; terminating and replacing it',
    );
    job.reject(new DetectionTimeoutError(this.jobTimeoutMs));
    void this.terminate(slot);
    if (!this.closed) this.replace();
    this.dispatch();
  }

  private complete(slot: Slot, msg: Extract<DetectorWorkerMessage, { type: 'result' | 'detect-error' }>): void {
    const job = slot.job;
    slot.job = null;
    if (slot.deadline) clearTimeout(slot.deadline);
    slot.deadline = null;
    if (job && job.id === msg.id) {
      // The transferred buffer comes home: the frame is whole again.
      job.frame.data = Buffer.from(msg.buffer);
      if (msg.type === 'result') job.resolve({ faces: msg.faces, people: msg.people });
      else job.reject(new Error(`detection failed: ${msg.message}`));
    }
    this.dispatch();
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (this.waiting.length === 0) return;
      if (!slot.ready || slot.job) continue;
      const job = this.waiting.shift() as Job;
      slot.job = job;
      const req: DetectRequest = {
        id: job.id,
        width: job.frame.width,
        height: job.frame.height,
        buffer: ownedArrayBuffer(job.frame.data),
        ...(job.face === undefined ? {} : { face: job.face }),
      };
      slot.worker.postMessage(req, [req.buffer]);
      // Measured from the hand-over to the worker: time waiting for a free worker is not its fault.
      slot.deadline = setTimeout(() => this.onJobTimeout(slot, job), this.jobTimeoutMs);
      slot.deadline.unref();
    }
  }
}

/** The frame's bytes as a whole ArrayBuffer that can be transferred; copies only when the Buffer is a view into a larger one. */
function ownedArrayBuffer(data: Buffer): ArrayBuffer {
  const ab = data.buffer;
  if (ab instanceof ArrayBuffer && data.byteOffset === 0 && data.byteLength === ab.byteLength) return ab;
  const copy = new ArrayBuffer(data.byteLength);
  new Uint8Array(copy).set(data);
  return copy;
}
