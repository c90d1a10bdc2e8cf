export * from './config.schema';
export * from './load-config';
export * from './redact';
export * from './loopback';
export * from './config.tokens';
export * from './camera-source';
export * from './time-zone';
export * from './geometry.schema';
