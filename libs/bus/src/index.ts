export * from './message-bus.port';
export * from './retry-later.error';
export * from './in-memory/bounded-queue';
export * from './in-memory/in-memory-bus';
export * from './kafka/kafka-bus';
export * from './kafka/kafkajs-logger';
export * from './kafka/binary-codec';
export * from './kafka/kafka-security';
