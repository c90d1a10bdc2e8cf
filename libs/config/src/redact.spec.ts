import { describe, expect, it } from 'vitest';
import { redactText, redactUrl } from './redact';

describe('redactUrl: credentials the old pattern missed', () => {
  it('hides a password that contains "@" (the user info ends at the last "@")', () => {
    expect(redactUrl('http://user:Pa@ss@host/x')).toBe('http://***:***@host/x');
    expect(redactUrl('rtsp://admin:p@ss:w@rd@10.0.0.5:554/live')).toBe('rtsp://***:***@10.0.0.5:554/live');
  });

  it('hides credential-like query values, and only those', () => {
    expect(redactUrl('http://cam/snap.cgi?user=admin&pwd=s3cret&chn=1')).toBe(
      'http://cam/snap.cgi?user=***&pwd=***&chn=1',
    );
    expect(redactUrl('https://h/v?Password=a&TOKEN=b&api_key=c&access_token=d#f')).toBe(
      'https://h/v?Password=***&TOKEN=***&api_key=***&access_token=***#f',
    );
    expect(redactUrl('rtsp://h/live?channel=1&subtype=0')).toBe('rtsp://h/live?channel=1&subtype=0');
  });

  it('hides user info in the forms ffmpeg accepts without slashes', () => {
    expect(redactUrl('rtsp:user:pass@host/live')).toBe('rtsp:***:***@host/live');
    expect(redactUrl('rtsp:/user:pass@host')).toBe('rtsp:/***:***@host');
  });

  it('hides a password with a "/" in it rather than showing it as a path', () => {
    expect(redactUrl('rtsp://user:pa/ss@host/live')).not.toContain('pa/ss');
  });

  it('keeps URLs without credentials as written', () => {
    for (const url of [
      'rtsp://10.0.0.5/live',
      'http://Cam:8080/a%20b?x=1',
      '/var/media/a.mp4',
      'rtsp://cam/stream@main',
    ])
      expect(redactUrl(url)).toBe(url);
  });
});

describe('redactText: URLs inside messages and log lines', () => {
  it('redacts every URL form in free text and in JSON', () => {
    const text = 'open http://user:Pa@ss@host/x, then rtsp:u:pw1@h and http://c/s?user=admin&pwd=pw2 failed';
    const out = redactText(text);
    for (const secret of ['Pa@ss', 'ss@host', 'pw1', 'pw2', 'admin']) expect(out).not.toContain(secret);
    expect(out).toContain('http://***:***@host/x');
    const json = JSON.stringify({ url: 'http://c/s?user=admin&pwd=pw3', msg: 'x' });
    expect(redactText(json)).toBe('{"url":"http://c/s?user=***&pwd=***","msg":"x"}');
  });
});
