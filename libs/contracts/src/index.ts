export * from './topic';
export * from './ids';
export * from './face-crops/face-crop.schema';
export * from './gender-predictions/gender-prediction.schema';
export * from './camera-status/camera-status.schema';
export * from './dead-letters/dead-letter.schema';
export * from './track-events/track-event.schema';
export * from './line-zone-events/line-zone-event.schema';
