export * from './logger';
export * from './tfjs-runtime';
