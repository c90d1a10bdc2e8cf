import { dirname, join } from 'node:path';

/**
 * One TF.js runtime per thread, shared by the face detector and the face-api
 * classifier. Picks the best backend that is installed: tfjs-node-gpu, then
 * tfjs-node, then wasm (always present). Loaded lazily so processes that
 * never touch TF.js (analytics) do not pay for it.
 */
export type FaceApi = typeof import('@vladmandic/face-api/dist/face-api.node-wasm');

export interface TfjsRuntime {
  readonly faceapi: FaceApi;
  readonly backend: string;
  readonly modelDir: string;
}

/** face-api's typings expose a subset of tf that omits `ready`, which the node builds do have. */
interface TfReady {
  ready(): Promise<void>;
}

let runtime: Promise<TfjsRuntime> | null = null;

function tryRequire(id: string): boolean {
  try {
    require.resolve(id);
    return true;
  } catch {
    return false;
  }
}

/** The weights face-api ships (detectors, age/gender): read by TF.js, and by the onnxruntime SSD. */
export function faceapiModelDir(): string {
  return join(dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
}

/** Node's typings overload `listeners` and `off` per event; one handler type for both events here. */
type ProcessHandler = (...args: unknown[]) => void;
const PROCESS_EVENTS = ['uncaughtException', 'unhandledRejection'] as const;
const handlersOf = (event: (typeof PROCESS_EVENTS)[number]): ProcessHandler[] =>
  (process.listeners as (e: string) => ProcessHandler[])(event);

/**
 * Emscripten's Node glue in the wasm backend adds process handlers that rethrow every unhandled
 * rejection and uncaught exception. They take the decision away from the host: a test runner that
 * reports an error and goes on, or a service's own shutdown path, is killed on the spot instead.
 * Whatever `start` adds to those two events is taken off again.
 */
export async function keepProcessHandlers(start: () => Promise<void>): Promise<void> {
  const before = new Map(PROCESS_EVENTS.map((e) => [e, new Set(handlersOf(e))]));
  try {
    await start();
  } finally {
    for (const event of PROCESS_EVENTS) {
      for (const handler of handlersOf(event)) {
        if (!before.get(event)!.has(handler)) process.removeListener(event, handler);
      }
    }
  }
}

async function init(): Promise<TfjsRuntime> {
  const modelDir = faceapiModelDir();
  if (tryRequire('@tensorflow/tfjs-node-gpu')) {
    const faceapi = require('@vladmandic/face-api/dist/face-api.node-gpu.js') as FaceApi;
    await (faceapi.tf as unknown as TfReady).ready();
    return { faceapi, backend: 'tfjs-node-gpu', modelDir };
  }
  if (tryRequire('@tensorflow/tfjs-node')) {
    const faceapi = require('@vladmandic/face-api/dist/face-api.node.js') as FaceApi;
    await (faceapi.tf as unknown as TfReady).ready();
    return { faceapi, backend: 'tfjs-node', modelDir };
  }
  // Order matters: tfjs and the wasm backend register before face-api binds to them.
  const tf = require('@tensorflow/tfjs') as typeof import('@tensorflow/tfjs');
  const wasm = require('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm');
  // A directory path, no platform fetch: Node's fetch cannot read local files.
  wasm.setWasmPaths(join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/');
  await keepProcessHandlers(async () => {
    await tf.setBackend('wasm');
    await tf.ready();
  });
  const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js') as FaceApi;
  return { faceapi, backend: 'tfjs-wasm', modelDir };
}

export function tfjsRuntime(): Promise<TfjsRuntime> {
  runtime ??= init().catch((err: unknown) => {
    runtime = null;
    throw err;
  });
  return runtime;
}
