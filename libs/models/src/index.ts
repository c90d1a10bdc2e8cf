export * from './gender-classifier.port';
export * from './batching/dynamic-batcher';
export * from './faceapi/faceapi-gender-classifier';
export * from './classifier.factory';
