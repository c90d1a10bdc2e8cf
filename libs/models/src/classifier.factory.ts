import type { ModelConfig } from '@crowdlens/config';
import type { GenderClassifier } from './gender-classifier.port';
import { FaceApiGenderClassifier } from './faceapi/faceapi-gender-classifier';
import { OnnxGenderClassifier, type ModelLogger } from './onnx/onnx-gender-classifier';

type ClassifierFactory<C extends ModelConfig> = (config: C, logger: ModelLogger) => Promise<GenderClassifier>;

/** Classifier runtimes keyed by config `type`. */
const CLASSIFIERS: { [K in ModelConfig['type']]: ClassifierFactory<Extract<ModelConfig, { type: K }>> } = {
  'faceapi-age-gender': async () => new FaceApiGenderClassifier(),
  onnx: async (config, logger) =>
    new OnnxGenderClassifier({
      path: config.path,
      ...(config.manifest ? { manifest: config.manifest } : {}),
      executionProvider: config.executionProvider,
      intraOpThreads: config.intraOpThreads,
      logger,
    }),
};

/** Builds and loads the configured classifier; a model that fails validation never gets served. */
export async function createGenderClassifier(config: ModelConfig, logger: ModelLogger): Promise<GenderClassifier> {
  const classifier = await (CLASSIFIERS[config.type] as ClassifierFactory<ModelConfig>)(config, logger);
  await classifier.load();
  return classifier;
}
