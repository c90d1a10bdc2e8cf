import { describe, expect, it } from 'vitest';
import { CameraSourceError, checkMediaDir, parseCameraSource } from './camera-source';
import { parseConfig } from './load-config';

describe('parseCameraSource (camera URL SSRF)', () => {
  it('accepts rtsp, rtsps, http and https URLs with a host', () => {
    expect(parseCameraSource('rtsp://u:p@cam:554/1')).toEqual({ kind: 'rtsp', url: 'rtsp://u:p@cam:554/1' });
    expect(parseCameraSource('RTSPS://cam/1')).toEqual({ kind: 'rtsp', url: 'RTSPS://cam/1' });
    expect(parseCameraSource('http://cam/mjpeg')).toMatchObject({ kind: 'http' });
    expect(parseCameraSource('https://cam/live.m3u8')).toMatchObject({ kind: 'http' });
  });

  it('makes file paths absolute: plain, relative to the working directory, or file:///', () => {
    expect(parseCameraSource('/v/../v/a.mp4')).toEqual({ kind: 'file', path: '/v/a.mp4' });
    expect(parseCameraSource('assets/sample.mp4')).toEqual({
      kind: 'file',
      path: `${process.cwd()}/assets/sample.mp4`,
    });
    expect(parseCameraSource('./odd:name.mp4')).toEqual({ kind: 'file', path: `${process.cwd()}/odd:name.mp4` });
    expect(parseCameraSource('file:///tmp/a%20b.mp4')).toEqual({ kind: 'file', path: '/tmp/a b.mp4' });
  });

  it.each([
    'gopher:127.0.0.1:3299/9/x%0D%0ASET pwned 1',
    'gopher://127.0.0.1:3299/_x',
    'tcp:127.0.0.1:6379',
    'tcp://127.0.0.1:6379',
    'unix:/var/run/docker.sock',
    'concat:/a.mp4|/b.mp4',
    'subfile:,,start,0,end,10,,:/etc/passwd',
    'data:text/plain;base64,AAAA',
    'udp://1.2.3.4:5',
    'ftp://host/x',
    'http:host/x',
    'rtsp:user:pass@host',
    'https:///no-host',
    'file://otherhost/x.mp4',
    'rtsp://cam/1\r\nX: y',
    ' rtsp://cam/1',
  ])('refuses %j', (url) => {
    expect(() => parseCameraSource(url)).toThrow(CameraSourceError);
  });

  it('never quotes the URL (credentials) in its reason', () => {
    try {
      parseCameraSource('udp://user:s3cret@1.2.3.4:5');
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).not.toContain('s3cret');
    }
  });

  it('keeps files inside ingest.mediaDir when it is set, and allows any file when it is not', () => {
    expect(() => checkMediaDir(parseCameraSource('/media/cams/a.mp4'), '/media/cams')).not.toThrow();
    expect(() => checkMediaDir(parseCameraSource('/media/cams/../../etc/passwd'), '/media/cams')).toThrow(
      /ingest\.mediaDir/,
    );
    expect(() => checkMediaDir(parseCameraSource('/media/cams-other/a.mp4'), '/media/cams')).toThrow(CameraSourceError);
    expect(() => checkMediaDir(parseCameraSource('/tmp/a.mp4'), undefined)).not.toThrow();
    expect(() => checkMediaDir(parseCameraSource('rtsp://cam/1'), '/media/cams')).not.toThrow();
  });

  it('is applied by the config schema, to the URL and to ingest.mediaDir', () => {
    expect(() => parseConfig({ cameras: [{ id: 'a', url: 'gopher:127.0.0.1:3299/x' }] })).toThrow(
      /cameras\[0\]\.url: scheme "gopher:" is not allowed/,
    );
    expect(() =>
      parseConfig({ ingest: { mediaDir: '/media/cams' }, cameras: [{ id: 'a', url: '/etc/passwd' }] }),
    ).toThrow(/cameras\[0\]\.url: files must lie inside ingest\.mediaDir/);
    expect(
      parseConfig({ ingest: { mediaDir: '/media/cams' }, cameras: [{ id: 'a', url: '/media/cams/a.mp4' }] }).cameras,
    ).toHaveLength(1);
  });
});
