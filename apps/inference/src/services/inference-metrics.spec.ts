import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { InferenceMetrics } from './inference-metrics';

describe('InferenceMetrics', () => {
  it('exports the loaded model as crowdlens_model_info{name,version,sha256,provider} = 1', async () => {
    const registry = new Registry();
    const metrics = new InferenceMetrics(registry);
    metrics.model({ name: 'faceapi-age-gender', version: '1.7.15', runtime: 'tfjs-wasm' });
    metrics.model({ name: 'resnet50', version: '2026-06', runtime: 'onnxruntime-cpu', sha256: 'ab'.repeat(32) });
    const text = await registry.metrics();
    // Only the model now loaded: a replaced one does not linger as a second series.
    expect(text.split('\n').filter((l) => l.startsWith('crowdlens_model_info{'))).toEqual([
      `crowdlens_model_info{name="resnet50",version="2026-06",sha256="${'ab'.repeat(32)}",provider="onnxruntime-cpu"} 1`,
    ]);
  });
});
