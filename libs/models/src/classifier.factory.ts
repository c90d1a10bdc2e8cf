import type { ModelConfig } from '@crowdlens/config';
import type { GenderClassifier } from './gender-classifier.port';
import { FaceApiGenderClassifier } from './faceapi/faceapi-gender-classifier';

type ClassifierFactory<C extends ModelConfig> = (config: C) => Promise<GenderClassifier>;

/** Classifier runtimes keyed by config `type`. */
const CLASSIFIERS: { [K in ModelConfig['type']]: ClassifierFactory<Extract<ModelConfig, { type: K }>> } = {
  'faceapi-age-gender': async () => new FaceApiGenderClassifier(),
  onnx: async () => {
    throw new Error('model type "onnx" is not wired yet');
  },
};

/** Builds and loads the configured classifier; a model that fails validation never gets served. */
export async function createGenderClassifier(config: ModelConfig): Promise<GenderClassifier> {
  const classifier = await (CLASSIFIERS[config.type] as ClassifierFactory<ModelConfig>)(config);
  await classifier.load();
  return classifier;
}
