export * from './gender-classifier.port';
export * from './batching/dynamic-batcher';
