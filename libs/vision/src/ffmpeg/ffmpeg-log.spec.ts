import { describe, expect, it } from 'vitest';
import { InputSizeWatcher, LineSplitter, OutputSizeDetector, parseFfmpegLogLine } from './ffmpeg-log';

describe('parseFfmpegLogLine', () => {
  it('reads the level tag, with or without a component prefix', () => {
    expect(parseFfmpegLogLine('[error] /tmp/x.mp4: No such file or directory')).toEqual({
      level: 'error',
      text: '/tmp/x.mp4: No such file or directory',
    });
    expect(parseFfmpegLogLine('[tcp @ 0x5616] [error] Connection refused')).toEqual({
      level: 'error',
      text: '[tcp @ 0x5616] Connection refused',
    });
    expect(parseFfmpegLogLine('[h264 @ 0x1] [warning] corrupt')).toMatchObject({ level: 'warning' });
    expect(parseFfmpegLogLine('no tag at all')).toEqual({ level: 'info', text: 'no tag at all' });
  });
});

describe('LineSplitter', () => {
  it('splits on \\n, \\r\\n and \\r across chunks', () => {
    const s = new LineSplitter();
    expect(s.push('ab')).toEqual([]);
    expect(s.push('c\nde')).toEqual(['abc']);
    expect(s.push('f\r\ng\rh')).toEqual(['def', 'g']);
    expect(s.flush()).toEqual(['h']);
    expect(s.flush()).toEqual([]);
  });
});

describe('OutputSizeDetector', () => {
  // Real ffmpeg 5.1 stderr (see ffmpeg-args: -loglevel level+verbose), tags already stripped.
  const lines = [
    "Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'assets/sample.mp4':",
    '  Stream #0:0[0x1](und): Video: h264 (High) (avc1 / 0x31637661), yuv420p(progressive), 1280x720 [SAR 1:1 DAR 16:9], 231 kb/s, 10 fps',
    'Stream mapping:',
    '  Stream #0:0 -> #0:0 (h264 (native) -> rawvideo (native))',
    "Output #0, rawvideo, to 'pipe:1':",
    '  Metadata:',
    '  Stream #0:0(und): Video: rawvideo (RGB[24] / 0x18424752), rgb24(pc, gbr/unknown/unknown, progressive), 320x180 [SAR 1:1 DAR 16:9], q=2-31',
  ];

  it('takes the output stream size, not the input one nor the fourcc', () => {
    const d = new OutputSizeDetector();
    const found = lines.map((l) => d.push(l.trim())).filter((x) => x !== null);
    expect(found).toEqual([{ width: 320, height: 180 }]);
    expect(d.size).toEqual({ width: 320, height: 180 });
  });

  it('understands the ffmpeg 4 layout', () => {
    const d = new OutputSizeDetector();
    d.push("Output #0, rawvideo, to 'pipe:1':");
    expect(
      d.push(
        'Stream #0:0(und): Video: rawvideo (RGB[24] / 0x18424752), rgb24, 640x360 [SAR 1:1 DAR 16:9], q=2-31, 2764 kb/s, 2 fps',
      ),
    ).toEqual({ width: 640, height: 360 });
  });

  it('ignores video lines before the output header', () => {
    const d = new OutputSizeDetector();
    expect(d.push('Stream #0:0: Video: rawvideo (RGB[24] / 0x18424752), rgb24, 640x360')).toBeNull();
    expect(d.size).toBeNull();
  });
});

describe('InputSizeWatcher', () => {
  // Real ffmpeg 5.1 verbose lines (tags stripped) for a stream that switches from 640x360 to 480x480.
  const first =
    '[graph 0 input from stream 0:0 @ 0x558283ad0600] w:640 h:360 pixfmt:yuv420p tb:1/90000 fr:10/1 sar:1/1';
  const second =
    '[graph 0 input from stream 0:0 @ 0x558283ad0cc0] w:480 h:480 pixfmt:yuv420p tb:1/90000 fr:10/1 sar:16/9';
  it('reports a change of the decoded size, not the first size nor a repeat', () => {
    const w = new InputSizeWatcher();
    expect(w.push(first)).toBeNull();
    expect(w.size).toEqual({ width: 640, height: 360 });
    expect(w.push(first)).toBeNull();
    expect(w.push('[Parsed_scale_1 @ 0x55] w:480 h:480 fmt:yuv420p sar:16/9 -> w:640 h:640 fmt:yuv420p')).toBeNull();
    expect(w.push(second)).toEqual({ from: { width: 640, height: 360 }, to: { width: 480, height: 480 } });
  });
});
