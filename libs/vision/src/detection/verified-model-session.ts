import {
  openWithProvider,
  type OnnxExecutionProvider,
  type ProviderSession,
} from '@crowdlens/models/onnx/provider-session';
import { readVerifiedModel } from './verified-model-file';

export interface VerifiedModelSession extends ProviderSession {
  /** The graph's image input, as its manifest names it. */
  readonly inputName: string;
}

/**
 * A detector model opened the one way every committed ONNX detector is: its bytes checked against
 * the manifest's sha256, one onnxruntime thread per worker by default, and the tensors the decoder
 * reads present (a wrong file fails here, naming the missing ones, not later with a shape error).
 */
export async function openVerifiedModelSession(
  modelPath: string,
  executionProvider: OnnxExecutionProvider,
  threads: number,
  requiredOutputs: readonly string[],
  family: string,
): Promise<VerifiedModelSession> {
  const { bytes, manifest } = await readVerifiedModel(modelPath);
  const opened = await openWithProvider(bytes, executionProvider, {
    graphOptimizationLevel: 'all',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
  });
  const { inputNames, outputNames } = opened.session;
  const missing = [manifest.input.name, ...requiredOutputs].filter(
    (n) => !inputNames.includes(n) && !outputNames.includes(n),
  );
  if (missing.length > 0) {
    await opened.session.release();
    throw new Error(`model ${modelPath} lacks the ${family} tensors ${missing.join(', ')}`);
  }
  return { ...opened, inputName: manifest.input.name };
}
