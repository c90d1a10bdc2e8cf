export * from './track';
export * from './track-merge';
export * from './bucket-deltas';
export * from './lateness';
export * from './track-aggregator';
