import { tfjsRuntime, type FaceApi } from '@crowdlens/runtime';
import type { ClassifierInfo, GenderClassifier, GenderScore, RgbImage } from '../gender-classifier.port';

/**
 * The bundled default: face-api's age/gender head, real trained weights that
 * ship inside the npm package. It takes the same 224x224 crops as the
 * ResNet50 path and resizes internally to its own 112x112 input.
 */
export class FaceApiGenderClassifier implements GenderClassifier {
  private faceapi: FaceApi | null = null;
  private runtime = 'tfjs';

  get info(): ClassifierInfo {
    return {
      name: 'faceapi-age-gender',
      version: '1.7.15',
      runtime: this.runtime,
      architecture: 'face-api age/gender head (112x112)',
      precision: 'fp32',
      // No labelled measurement of this head exists in the project: say so rather than guess.
      card: null,
    };
  }

  async load(): Promise<void> {
    const rt = await tfjsRuntime();
    if (!rt.faceapi.nets.ageGenderNet.isLoaded) await rt.faceapi.nets.ageGenderNet.loadFromDisk(rt.modelDir);
    this.faceapi = rt.faceapi;
    this.runtime = rt.backend;
  }

  async classify(batch: readonly RgbImage[]): Promise<GenderScore[]> {
    const faceapi = this.faceapi;
    if (!faceapi) throw new Error('FaceApiGenderClassifier.classify called before load()');
    if (batch.length === 0) return [];
    // face-api batches a list of 3-D tensors itself (one 4-D tensor with N > 1 is refused).
    const inputs = batch.map((img, i) => {
      if (img.data.length !== img.width * img.height * 3) {
        throw new Error(`crop ${i} is not ${img.width}x${img.height} RGB (${img.data.length} bytes)`);
      }
      return faceapi.tf.tensor3d(img.data, [img.height, img.width, 3], 'int32');
    });
    try {
      const out = await faceapi.nets.ageGenderNet.predictAgeAndGender(inputs.length === 1 ? inputs[0]! : inputs);
      const list = Array.isArray(out) ? out : [out];
      return list.map((p) => ({ probMale: p.gender === 'male' ? p.genderProbability : 1 - p.genderProbability }));
    } finally {
      inputs.forEach((t) => t.dispose());
    }
  }

  async close(): Promise<void> {
    this.faceapi = null;
  }
}
