import * as ort from 'onnxruntime-node';

export type OnnxExecutionProvider = 'cpu' | 'cuda' | 'tensorrt';

/** Providers to request, best first; CPU always last so unsupported nodes still run. */
export function providerChain(ep: OnnxExecutionProvider): string[] {
  if (ep === 'tensorrt') return ['tensorrt', 'cuda', 'cpu'];
  if (ep === 'cuda') return ['cuda', 'cpu'];
  return ['cpu'];
}

export interface ProviderSession {
  readonly session: ort.InferenceSession;
  /** What the session actually runs on. */
  readonly provider: OnnxExecutionProvider;
  /** Why the requested GPU provider was not used; null when it was (or CPU was asked for). */
  readonly fallbackReason: string | null;
}

/**
 * Opens an onnxruntime session on the requested provider. A GPU provider
 * that cannot start here (binaries not installed, no device, driver
 * mismatch) falls back to CPU and says why, so a GPU host with a broken CUDA
 * install still serves, slower, with one clear warning from the caller.
 * A model that cannot open on CPU either is the caller's error to name.
 */
export async function openWithProvider(
  model: string | Uint8Array,
  requested: OnnxExecutionProvider,
  options: ort.InferenceSession.SessionOptions,
): Promise<ProviderSession> {
  let fallbackReason: string | null = null;
  if (requested !== 'cpu') {
    const supported = new Set(ort.listSupportedBackends().map((b) => b.name));
    if (!supported.has(requested)) {
      fallbackReason = `this onnxruntime-node build has no ${requested} execution provider`;
    } else {
      try {
        const session = await create(model, { ...options, executionProviders: providerChain(requested) });
        return { session, provider: requested, fallbackReason: null };
      } catch (err) {
        // onnxruntime's own text names its C entry point, not the provider: say which one failed.
        fallbackReason = `the ${requested} execution provider failed to start: ${(err as Error).message}`;
      }
    }
  }
  const session = await create(model, { ...options, executionProviders: ['cpu'] });
  return { session, provider: 'cpu', fallbackReason };
}

// Two calls, not one: TypeScript resolves create()'s overloads per call, and a union matches none.
function create(model: string | Uint8Array, options: ort.InferenceSession.SessionOptions) {
  return typeof model === 'string'
    ? ort.InferenceSession.create(model, options)
    : ort.InferenceSession.create(model, options);
}
