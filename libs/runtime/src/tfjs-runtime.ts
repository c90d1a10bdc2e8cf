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
  await tf.setBackend('wasm');
  await tf.ready();
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
