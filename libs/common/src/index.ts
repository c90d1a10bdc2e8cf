export * from './logger';
export * from './tfjs-runtime';
export * from './repo-root';
export * from './nest/tokens';
export * from './nest/core.module';
export * from './nest/pino-nest-logger';
export * from './nest/readiness';
export * from './nest/zod-validation.pipe';
