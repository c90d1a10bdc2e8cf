import { describe, expect, it } from 'vitest';
import { kafkaClientId } from './message-bus.factory';

describe('kafka client id', () => {
  it('names the role, host and process, so group members can be told apart', () => {
    expect(kafkaClientId('crowdlens', { role: 'inference', host: 'box-1', pid: 4242 })).toBe(
      'crowdlens-inference-box-1-4242',
    );
    expect(kafkaClientId('crowdlens', { role: 'inference', host: 'box-1', pid: 4243 })).not.toBe(
      kafkaClientId('crowdlens', { role: 'inference', host: 'box-1', pid: 4242 }),
    );
  });
});
