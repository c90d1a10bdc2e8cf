import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from './load-config';

describe('time zones in the config', () => {
  it('takes IANA zones per camera group and a default, UTC unless set', () => {
    expect(parseConfig({}).analytics.timeZone).toBe('UTC');
    const config = parseConfig({
      groups: { blr: { timeZone: 'Asia/Kolkata' }, hq: {} },
      analytics: { timeZone: 'Europe/Paris' },
    });
    expect(config.groups).toEqual({ blr: { timeZone: 'Asia/Kolkata' }, hq: {} });
    expect(config.analytics.timeZone).toBe('Europe/Paris');
  });

  it('refuses a zone Intl does not know, naming the field', () => {
    const bad = () => parseConfig({ groups: { blr: { timeZone: 'Asia/Bangalore' } } });
    expect(bad).toThrow(ConfigError);
    expect(bad).toThrow(/groups\.blr\.timeZone: not a known IANA time zone/);
    expect(() => parseConfig({ analytics: { timeZone: 'Mars/Olympus_Mons' } })).toThrow(/analytics\.timeZone/);
    expect(() => parseConfig({ groups: { blr: { tz: 'UTC' } } })).toThrow(/groups\.blr/);
  });
});
