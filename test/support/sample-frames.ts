import { resolve } from 'node:path';
import pino from 'pino';
import { FfmpegFrameSource, locateFfmpeg, type Frame } from '@crowdlens/vision';

export const SAMPLE_VIDEO = resolve(__dirname, '../../assets/sample.mp4');

/** Every frame of the sample video at `fps`, scaled to `width`, decoded by real ffmpeg. */
export async function sampleFrames(width = 640, fps = 1): Promise<Frame[]> {
  const frames: Frame[] = [];
  const source = new FfmpegFrameSource({
    binary: locateFfmpeg(),
    input: { kind: 'file', path: SAMPLE_VIDEO, realtime: false, loop: false },
    fps,
    width,
    logger: pino({ level: 'silent' }),
  });
  await new Promise<void>((res) =>
    source.start({ onStart: () => undefined, onFrame: (f) => frames.push(f), onExit: () => res() }),
  );
  return frames;
}
