import { describe, expect, it } from 'vitest';
import { buildFfmpegArgs, inputFromUrl, UnsupportedSourceError, type FfmpegArgsSpec } from './ffmpeg-args';

const base = (over: Partial<FfmpegArgsSpec> = {}): FfmpegArgsSpec => ({
  input: { kind: 'file', path: '/v/a.mp4', realtime: false, loop: false },
  output: { fps: 5, width: 640 },
  ioTimeoutMs: 5000,
  libavformatMajor: 59,
  ...over,
});

/** Value following a flag, or undefined when the flag is absent. */
const valueOf = (args: string[], flag: string): string | undefined => {
  const i = args.indexOf(flag);
  return i < 0 ? undefined : args[i + 1];
};

describe('inputFromUrl', () => {
  it('classifies rtsp, http and file sources', () => {
    expect(inputFromUrl('rtsp://u:p@cam/1', { realtime: true, loop: false }, 'x').kind).toBe('rtsp');
    expect(inputFromUrl('RTSPS://cam/1', { realtime: true, loop: false }, 'x').kind).toBe('rtsp');
    expect(inputFromUrl('https://cam/mjpeg', { realtime: true, loop: false }, 'x').kind).toBe('http');
    expect(inputFromUrl('/v/sample.mp4', { realtime: true, loop: true }, 'x')).toEqual({
      kind: 'file',
      path: '/v/sample.mp4',
      realtime: true,
      loop: true,
    });
    expect(inputFromUrl('file:///tmp/a%20b.mp4', { realtime: false, loop: false }, 'x')).toMatchObject({
      kind: 'file',
      path: '/tmp/a b.mp4',
    });
  });

  it('rejects other schemes with the redacted URL in the message', () => {
    expect(() =>
      inputFromUrl('udp://u:secret@1.2.3.4:5', { realtime: true, loop: false }, 'udp://***:***@1.2.3.4:5'),
    ).toThrow(UnsupportedSourceError);
    try {
      inputFromUrl('udp://u:secret@1.2.3.4:5', { realtime: true, loop: false }, 'udp://***:***@1.2.3.4:5');
    } catch (err) {
      expect((err as Error).message).not.toContain('secret');
    }
  });

  it('refuses protocols ffmpeg would otherwise open from a "local path" (SSRF)', () => {
    for (const url of ['gopher:127.0.0.1:3299/9/x%0D%0ASET pwned 1', 'tcp:127.0.0.1:1', 'concat:/a|/b', 'http:h/x']) {
      expect(() => inputFromUrl(url, { realtime: true, loop: false }, 'redacted')).toThrow(UnsupportedSourceError);
    }
  });
});

describe('buildFfmpegArgs: -protocol_whitelist', () => {
  it('lets each input kind open only its own protocols, before -i', () => {
    const cases: Array<[FfmpegArgsSpec['input'], string]> = [
      [{ kind: 'file', path: '/v/a.mp4', realtime: false, loop: false }, 'file'],
      [{ kind: 'rtsp', url: 'rtsp://cam/1' }, 'rtsp,rtsps,tcp,tls'],
      [{ kind: 'http', url: 'http://cam/1' }, 'http,https,tcp,tls'],
    ];
    for (const [input, whitelist] of cases) {
      const args = buildFfmpegArgs(base({ input }));
      expect(valueOf(args, '-protocol_whitelist')).toBe(whitelist);
      expect(args.indexOf('-protocol_whitelist')).toBeLessThan(args.indexOf('-i'));
    }
  });
});

describe('buildFfmpegArgs', () => {
  it('builds the raw RGB pipe output with sampling and scaling', () => {
    const args = buildFfmpegArgs(base());
    expect(valueOf(args, '-vf')).toBe('fps=5,scale=640:-2');
    expect(valueOf(args, '-f')).toBe('rawvideo');
    expect(valueOf(args, '-pix_fmt')).toBe('rgb24');
    expect(valueOf(args, '-map')).toBe('0:v:0');
    expect(args.at(-1)).toBe('pipe:1');
    expect(args).toEqual(expect.arrayContaining(['-an', '-sn', '-nostdin']));
    expect(valueOf(args, '-loglevel')).toBe('level+verbose');
  });

  it('reads real-time files with -re and loops with -stream_loop before -i', () => {
    const args = buildFfmpegArgs(base({ input: { kind: 'file', path: '/v/a.mp4', realtime: true, loop: true } }));
    const i = args.indexOf('-i');
    expect(args.indexOf('-re')).toBeGreaterThanOrEqual(0);
    expect(args.indexOf('-re')).toBeLessThan(i);
    expect(valueOf(args, '-stream_loop')).toBe('-1');
    expect(args.indexOf('-stream_loop')).toBeLessThan(i);
    expect(args[i + 1]).toBe('/v/a.mp4');
  });

  it('decodes files as fast as possible when not real-time, once', () => {
    const args = buildFfmpegArgs(base());
    expect(args).not.toContain('-re');
    expect(args).not.toContain('-stream_loop');
  });

  it('uses TCP and the microsecond socket timeout for RTSP, named per ffmpeg version', () => {
    const v5 = buildFfmpegArgs(base({ input: { kind: 'rtsp', url: 'rtsp://cam/1' }, ioTimeoutMs: 7000 }));
    expect(valueOf(v5, '-rtsp_transport')).toBe('tcp');
    expect(valueOf(v5, '-timeout')).toBe('7000000');
    expect(v5).not.toContain('-stimeout');
    expect(v5.indexOf('-timeout')).toBeLessThan(v5.indexOf('-i'));

    // ffmpeg 4: -timeout would put RTSP in listen mode; -stimeout is the socket timeout.
    const v4 = buildFfmpegArgs(
      base({ input: { kind: 'rtsp', url: 'rtsp://cam/1' }, ioTimeoutMs: 7000, libavformatMajor: 58 }),
    );
    expect(valueOf(v4, '-stimeout')).toBe('7000000');
    expect(v4).not.toContain('-timeout');
  });

  it('sets a read timeout for HTTP sources and no RTSP flags', () => {
    const args = buildFfmpegArgs(base({ input: { kind: 'http', url: 'http://cam/video' } }));
    expect(valueOf(args, '-rw_timeout')).toBe('5000000');
    expect(args).not.toContain('-rtsp_transport');
    expect(args).not.toContain('-re');
  });

  it('puts -hwaccel before the input only when asked', () => {
    expect(buildFfmpegArgs(base())).not.toContain('-hwaccel');
    const args = buildFfmpegArgs(base({ hwaccel: 'cuda' }));
    expect(valueOf(args, '-hwaccel')).toBe('cuda');
    expect(args.indexOf('-hwaccel')).toBeLessThan(args.indexOf('-i'));
  });

  it('sets the decoder threads before the input only when asked', () => {
    expect(buildFfmpegArgs(base())).not.toContain('-threads');
    const args = buildFfmpegArgs(base({ decodeThreads: 1 }));
    expect(valueOf(args, '-threads')).toBe('1');
    expect(args.indexOf('-threads')).toBeLessThan(args.indexOf('-i'));
    expect(() => buildFfmpegArgs(base({ decodeThreads: 0 }))).toThrow(RangeError);
  });

  it('rejects nonsense numbers', () => {
    expect(() => buildFfmpegArgs(base({ output: { fps: 0, width: 640 } }))).toThrow(RangeError);
    expect(() => buildFfmpegArgs(base({ output: { fps: 5, width: 640.5 } }))).toThrow(RangeError);
    expect(() => buildFfmpegArgs(base({ ioTimeoutMs: -1 }))).toThrow(RangeError);
  });
});
