/** Nest injection tokens shared by every app. */
export const LOGGER = Symbol('Logger');
export const METRICS = Symbol('MetricsRegistry');
export const CLOCK = Symbol('Clock');
