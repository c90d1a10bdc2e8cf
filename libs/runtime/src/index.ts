export * from './logger';
export * from './log-format';
export * from './clock';
export * from './backoff';
export * from './tfjs-runtime';
export * from './repo-root';
