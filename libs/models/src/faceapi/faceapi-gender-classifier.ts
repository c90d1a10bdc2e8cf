import { tfjsRuntime, type FaceApi } from '@crowdlens/common';
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
    return { name: 'faceapi-age-gender', version: '1.7.15', runtime: this.runtime };
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
    const { width, height } = batch[0]!;
    const pixels = new Uint8Array(batch.length * width * height * 3);
    batch.forEach((img, i) => {
      if (img.width !== width || img.height !== height || img.data.length !== width * height * 3) {
        throw new Error(`crop ${i} is ${img.width}x${img.height}, expected ${width}x${height} RGB`);
      }
      pixels.set(img.data, i * width * height * 3);
    });
    const input = faceapi.tf.tensor4d(pixels, [batch.length, height, width, 3], 'int32');
    try {
      const out = await faceapi.nets.ageGenderNet.predictAgeAndGender(input);
      const list = Array.isArray(out) ? out : [out];
      return list.map((p) => ({ probMale: p.gender === 'male' ? p.genderProbability : 1 - p.genderProbability }));
    } finally {
      input.dispose();
    }
  }

  async close(): Promise<void> {
    this.faceapi = null;
  }
}
