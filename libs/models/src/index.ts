export * from './gender-classifier.port';
export * from './batching/dynamic-batcher';
export * from './faceapi/faceapi-gender-classifier';
export * from './classifier.factory';
export * from './manifest/model-manifest';
export * from './preprocess/torchvision-preprocess';
export * from './onnx/onnx-gender-classifier';
export * from './onnx/provider-session';
