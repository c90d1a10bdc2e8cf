import { describe, expect, it } from 'vitest';
import type { ModelCard } from '@crowdlens/models';
import { describeModel } from './active-model.service';

const card = {
  accuracy: 0.97912,
  data: { source: '/data/celeba', split: 'test', images: 19962 },
  measuredAt: '2026-06-30T10:00:00Z',
};

describe('describeModel', () => {
  it('says "unmeasured" plainly for a model without a card', () => {
    const d = describeModel({ name: 'faceapi-age-gender', version: '1.7.15', runtime: 'tfjs-wasm', card: null });
    expect(d).toMatchObject({ measured: false, card: null, architecture: null, sha256: null });
    expect(d.headline).toMatch(/^unmeasured: this model carries no model card, so its accuracy is unknown/);
  });

  it('headlines the card: accuracy, images, split and date', () => {
    const d = describeModel({
      name: 'crowdlens-resnet50-gender',
      version: 'v1',
      runtime: 'onnxruntime-cpu',
      precision: 'int8',
      card: card as unknown as ModelCard,
    });
    expect(d.measured).toBe(true);
    expect(d.precision).toBe('int8');
    expect(d.headline).toBe('accuracy 97.9% on 19,962 images (test, measured 2026-06-30)');
  });
});
