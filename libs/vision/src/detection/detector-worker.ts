/**
 * Entry point of one detection worker thread (see DetectorWorkerPool). TF.js
 * with the wasm backend is single-threaded under Node, so parallel detection
 * means one TF.js runtime per worker; the onnxruntime SSD likewise runs one
 * single-threaded session per worker, so N workers use N cores without
 * oversubscribing them. Runs as compiled JS only.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Frame } from '../frame';
import type { DetectRequest, DetectorWorkerData, DetectorWorkerMessage } from './detector-worker-protocol';
import { createThreadSceneDetector } from './create-scene-detector';

function post(msg: DetectorWorkerMessage, transfer: ArrayBuffer[] = []): void {
  parentPort?.postMessage(msg, transfer);
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

if (!parentPort) throw new Error('detector-worker must run as a worker thread');

const { config } = workerData as DetectorWorkerData;
const detector = createThreadSceneDetector(config);

detector.load().then(
  () => post({ type: 'ready', backend: detector.backend, fallbackReason: detector.fallbackReason ?? null }),
  (err: unknown) => post({ type: 'load-error', message: errorMessage(err) }),
);

// The pool sends one request at a time per worker, so requests never overlap here.
parentPort.on('message', (req: DetectRequest) => {
  const frame: Frame = {
    data: Buffer.from(req.buffer),
    width: req.width,
    height: req.height,
    ts: 0,
    monoTs: 0,
    seq: 0,
  };
  detector.detect(frame, req.face).then(
    ({ faces, people }) => post({ type: 'result', id: req.id, faces, people, buffer: req.buffer }, [req.buffer]),
    (err: unknown) =>
      post({ type: 'detect-error', id: req.id, message: errorMessage(err), buffer: req.buffer }, [req.buffer]),
  );
});
