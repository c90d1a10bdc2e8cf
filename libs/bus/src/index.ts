export * from './message-bus.port';
export * from './in-memory/bounded-queue';
export * from './in-memory/in-memory-bus';
