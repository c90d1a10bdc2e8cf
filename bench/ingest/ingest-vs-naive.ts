/**
 * Ingest throughput against the naive loop, in one run on the same video.
 *
 *   npm run build && node dist/bench/ingest/ingest-vs-naive.js [--seconds 20] [--cameras 1,2,4,8] [--camera-seconds 30]
 *     [--camera-fps 5] [--cameras-only] [--detectors-only] [--unit people|faces] [--camera-detectors ssd,retinaface]
 *
 * 1. naive: what face-api's own Node demo does, applied to every frame of a
 *    video: decode (ffmpeg pipe), then on the main thread
 *    `detectAllFaces(frame, SSD MobileNet v1).withAgeAndGender()`.
 * 2. CrowdLens: the ingest pipeline (CameraManager: ffmpeg -> motion gate ->
 *    detector in worker threads -> SORT tracker -> best crops), every
 *    frame of the same clip offered (file, not real time, backpressure), and
 *    then the gender of every crop it emitted with the same face-api age/gender
 *    head, so both sides end with a gender per face they report.
 * 3. recall, with the naive SSD detections as the reference: per frame (a
 *    CrowdLens face matches a reference face at IoU >= 0.3; frames skipped by
 *    the motion gate count with the faces of the last analysed frame), and per
 *    person (reference detections tracked into people; a person is found when
 *    at least one CrowdLens crop covers them).
 *    The default detector is face-api's SSD itself (same weights, same pre-
 *    and post-processing) run by onnxruntime; the Tiny detector on TF.js is
 *    the other row.
 * 4. small faces (issue 12): recall on faces of 12-32 px (small-faces-set.ts),
 *    the naive loop's detector against SSD and RetinaFace, and each face
 *    detector's own CPU per frame on one thread, so the pipeline's CPU per
 *    frame splits into detection and the rest (decode, copies, tracking, crops).
 * 5. cameras: N cameras on the sample video looped in real time at 5 fps for
 *    --camera-seconds each, per face detector; the frames each camera got
 *    through per second.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import pino from 'pino';
import {
  CameraConfigSchema,
  CountingConfigSchema,
  DetectorConfigSchema,
  TrackerConfigSchema,
  type CountingConfig,
  type DetectorConfig,
} from '@crowdlens/config';
import type { Box, FaceCrop } from '@crowdlens/contracts';
import { repoRoot, tfjsRuntime } from '@crowdlens/runtime';
import {
  CameraManager,
  createSceneDetector,
  createThreadDetector,
  OnnxNanodetPersonDetector,
  FfmpegFrameSource,
  iou,
  IouTracker,
  locateFfmpeg,
  solveAssignment,
  type FaceDetection,
  type Frame,
} from '@crowdlens/vision';
import { TappedSceneDetector } from '../support/tapped-scene-detector';
import { buildSmallFacesSet, scoreSmallFaces, SMALL_FACE_MAX, SMALL_FACE_MIN } from './small-faces-set';

const logger = pino({ level: process.env.BENCH_LOG ?? 'warn' });
const SAMPLE = join(repoRoot(), 'assets/sample.mp4');
const MIN_FACE = 32;
const MATCH_IOU = 0.3;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? (process.argv[i + 1] as string) : fallback;
}

const seconds = Number(arg('seconds', '20'));
const cameraCounts = arg('cameras', '1,2,4,8')
  .split(',')
  .map(Number)
  .filter((n) => n > 0);
const cameraSeconds = Number(arg('camera-seconds', '30'));
const cameraFps = Number(arg('camera-fps', '5'));
/** Only the cameras part (e.g. `--camera-fps 3`), without the naive-loop comparison. */
const camerasOnly = process.argv.includes('--cameras-only');
/** Only part 4 (face detectors alone and the small-faces set). */
const detectorsOnly = process.argv.includes('--detectors-only');
/** Counting unit of the camera-capacity runs: people (the default) or faces. */
const cameraUnit = arg('unit', 'people');
/** Face detectors the camera-capacity runs are repeated with: ssd, retinaface, retinaface@<input size>, retinaface@<size>/<size of every second camera>. */
const cameraDetectors = arg('camera-detectors', 'ssd,retinaface').split(',');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** utime+stime (+ cutime+cstime: reaped children) of a /proc/<pid>/stat (or /proc/self/task/<tid>/stat), in seconds. */
function statCpu(pid: number | 'self' | `self/task/${number}`, withChildren: boolean): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat
      .slice(stat.lastIndexOf(')') + 2)
      .split(' ')
      .map(Number);
    // Fields from 3 (state) on: utime is field 14, stime 15, cutime 16, cstime 17.
    const own = (f[11] ?? 0) + (f[12] ?? 0);
    return (withChildren ? own + (f[13] ?? 0) + (f[14] ?? 0) : own) / CLK_TCK;
  } catch {
    return 0; // a child that exited between ps and the read is counted once reaped
  }
}

/**
 * CPU seconds used so far by this process (every thread: the detector workers
 * too) and its ffmpeg children, live or exited. On a machine shared with other
 * work, CPU per frame is what stays comparable when wall-clock rates do not.
 */
function cpuSeconds(): number {
  let total = statCpu('self', true);
  let pids: number[] = [];
  try {
    pids = execFileSync('ps', ['--ppid', String(process.pid), '-o', 'pid='], { encoding: 'utf8' })
      .split('\n')
      .map((l) => Number(l.trim()))
      .filter((p) => p > 0);
  } catch {
    // no children
  }
  for (const pid of pids) total += statCpu(pid, false);
  return total;
}

/** Where the CPU went, in seconds so far: ffmpeg children, this process's main thread, its other threads. */
interface CpuSplit {
  readonly ffmpeg: number;
  readonly main: number;
  readonly threads: number;
}

function cpuSplit(): CpuSplit {
  const total = cpuSeconds();
  const own = statCpu('self', false);
  // The main thread's task has the process id; the rest are detector workers, onnxruntime's and libuv's threads.
  const main = statCpu(`self/task/${process.pid}`, false);
  return { ffmpeg: total - own, main, threads: own - main };
}

/** Every frame of the clip at its native rate, as the naive loop reads it. */
async function* decodeFrames(path: string, fps: number): AsyncGenerator<Frame> {
  const queue: Frame[] = [];
  let done = false;
  let wake: (() => void) | null = null;
  const source = new FfmpegFrameSource({
    binary: locateFfmpeg(),
    input: { kind: 'file', path, realtime: false, loop: false },
    fps,
    width: 640,
    logger,
  });
  source.start({
    onStart: () => undefined,
    onFrame: (f) => {
      queue.push(f);
      // A reader as naive as the loop itself would buffer without bound; a few frames are enough.
      if (queue.length > 8) source.pause();
      wake?.();
    },
    onExit: () => {
      done = true;
      wake?.();
    },
  });
  for (;;) {
    const f = queue.shift();
    if (f) {
      if (queue.length < 4) source.resume();
      yield f;
      continue;
    }
    if (done) return;
    await new Promise<void>((r) => (wake = r));
    wake = null;
  }
}

interface NaiveResult {
  frames: number;
  ms: number;
  cpu: number;
  faces: Box[][];
  genders: number;
}

async function runNaive(clip: string, fps: number): Promise<NaiveResult> {
  const { faceapi, modelDir } = await tfjsRuntime();
  await faceapi.nets.ssdMobilenetv1.loadFromDisk(modelDir);
  await faceapi.nets.ageGenderNet.loadFromDisk(modelDir);
  const options = new faceapi.SsdMobilenetv1Options({ minConfidence: 0.5, maxResults: 100 });
  const faces: Box[][] = [];
  let genders = 0;
  const t0 = performance.now();
  const c0 = cpuSeconds();
  for await (const frame of decodeFrames(clip, fps)) {
    const input = faceapi.tf.tensor3d(
      new Uint8Array(frame.data.buffer, frame.data.byteOffset, frame.data.length),
      [frame.height, frame.width, 3],
      'int32',
    );
    try {
      const found = await faceapi.detectAllFaces(input, options).withAgeAndGender();
      faces[frame.seq] = found.map((d) => {
        const b = d.detection.box;
        return { x: b.x, y: b.y, width: b.width, height: b.height };
      });
      genders += found.length;
    } finally {
      input.dispose();
    }
    if (frame.seq % 50 === 0) process.stderr.write(`  naive: frame ${frame.seq}\n`);
  }
  return { frames: faces.length, ms: performance.now() - t0, cpu: cpuSeconds() - c0, faces, genders };
}

/** The face pipeline (counting unit faces): what this bench compares with the naive face loop. */
const FACES = CountingConfigSchema.parse({ unit: 'faces' });
/** The counting default: people (NanoDet) and faces in the same worker, faces attached to people. */
const PEOPLE = CountingConfigSchema.parse({ unit: 'people' });

interface PipelineResult {
  label: string;
  frames: number;
  analysed: number;
  skipped: number;
  ms: number;
  classifyMs: number;
  /** CPU seconds, pipeline and classification of its crops. */
  cpu: number;
  tracks: number;
  crops: FaceCrop[];
  /** Faces per frame index, gated frames carrying the last analysed frame's faces. */
  faces: Box[][];
}

async function runCrowdLens(
  label: string,
  clip: string,
  fps: number,
  detector: DetectorConfig,
  motion: boolean,
  counting: CountingConfig = FACES,
): Promise<PipelineResult> {
  // Faces per frame (by capture time), for recall against the naive loop.
  const facesByTs = new Map<number, FaceDetection[]>();
  const recorder = new TappedSceneDetector(
    createSceneDetector(
      { faces: detector, people: counting.unit === 'people' ? counting.personDetector : null },
      logger,
    ),
    (ts, found) => facesByTs.set(ts, found.faces),
  );
  const crops: FaceCrop[] = [];
  let stopped: () => void = () => undefined;
  const finished = new Promise<void>((r) => (stopped = r));
  const manager = new CameraManager({
    logger,
    detector,
    counting,
    tracker: TrackerConfigSchema.parse({}),
    sceneDetector: recorder,
    motion: { enabled: motion },
    cropSink: async (c) => void crops.push(c),
    trackEventSink: async () => undefined,
    statusSink: (s) => {
      if (s.state === 'stopped') stopped();
    },
    statusIntervalMs: 0,
  });
  await manager.start();
  const t0 = performance.now();
  const cpu0 = cpuSeconds();
  await manager.add(CameraConfigSchema.parse({ id: 'bench', url: clip, fps, realtime: false }));
  await finished;
  const ms = performance.now() - t0;
  const pipelineCpu = cpuSeconds() - cpu0;
  const details = manager.details('bench');
  await manager.stop();

  // The gender of every crop, with the same head the naive loop runs on every face.
  const { faceapi, modelDir } = await tfjsRuntime();
  await faceapi.nets.ageGenderNet.loadFromDisk(modelDir);
  const c0 = performance.now();
  const classifyCpu0 = cpuSeconds();
  for (const crop of crops) {
    const raw = await sharp(Buffer.from(crop.jpeg)).removeAlpha().raw().toBuffer();
    const t = faceapi.tf.tensor3d(new Uint8Array(raw), [crop.height, crop.width, 3], 'int32');
    try {
      await faceapi.nets.ageGenderNet.predictAgeAndGender(t);
    } finally {
      t.dispose();
    }
  }
  const classifyMs = performance.now() - c0;
  const cpu = pipelineCpu + (cpuSeconds() - classifyCpu0);

  // Frame index from capture time: a file read faster than real time is stamped with its media time.
  const stamps = [...facesByTs.keys()].sort((a, b) => a - b);
  const base = stamps[0] ?? 0;
  const frameOf = (ts: number) => Math.round(((ts - base) * fps) / 1000);
  const frames = details?.framesIn ?? 0;
  const faces: Box[][] = [];
  let last: Box[] = [];
  for (let i = 0; i < frames; i++) {
    const got = facesByTs.get(base + (i * 1000) / fps) ?? facesByTs.get(Math.round(base + (i * 1000) / fps));
    if (got) last = got.map((d) => d.box);
    faces[i] = last;
  }
  return {
    label,
    frames,
    analysed: details?.framesAnalysed ?? 0,
    skipped: details?.framesSkipped ?? 0,
    ms,
    classifyMs,
    cpu,
    tracks: details?.tracks ?? 0,
    crops: crops.map((c) => ({ ...c, frameTs: frameOf(c.frameTs) })),
    faces,
  };
}

function big(boxes: Box[] | undefined): Box[] {
  return (boxes ?? []).filter((b) => Math.min(b.width, b.height) >= MIN_FACE);
}

function matches(ref: Box[], got: Box[]): number {
  const cost = ref.map((r) => got.map((g) => (iou(r, g) >= MATCH_IOU ? 1 - iou(r, g) : Number.POSITIVE_INFINITY)));
  return solveAssignment(cost).length;
}

/** Per-frame recall against the reference. */
function frameRecall(reference: Box[][], faces: Box[][]): { found: number; total: number } {
  let found = 0;
  let total = 0;
  reference.forEach((ref, i) => {
    const r = big(ref);
    total += r.length;
    found += matches(r, faces[i] ?? []);
  });
  return { found, total };
}

/**
 * Reference people: the reference detections tracked (3+ sightings); found when a crop covers one of their boxes,
 * on the crop's own frame, or (toleranceFrames > 0) on the nearest frame within that many where the reference
 * saw them: a detector that finds a face on frames the reference missed may take its crop there.
 */
function personRecall(
  reference: Box[][],
  crops: FaceCrop[],
  fps: number,
  toleranceFrames = 0,
): { found: number; total: number } {
  const tracker = new IouTracker({ iouThreshold: 0.3, maxAgeMs: 1500, minHits: 2 }, 'ref');
  const sightings = new Map<string, Map<number, Box>>();
  reference.forEach((ref, i) => {
    const r = big(ref);
    const u = tracker.update(
      r.map((box) => ({ box, score: 1 })),
      (i * 1000) / fps,
    );
    for (const f of u.faces) {
      const m = sightings.get(f.trackId) ?? new Map<number, Box>();
      m.set(i, f.box);
      sightings.set(f.trackId, m);
    }
  });
  const people = [...sightings.values()].filter((m) => m.size >= 3);
  let found = 0;
  for (const person of people) {
    const nearest = (frame: number): Box | undefined => {
      for (let d = 0; d <= toleranceFrames; d++) {
        const box = person.get(frame - d) ?? person.get(frame + d);
        if (box) return box;
      }
      return undefined;
    };
    if (
      crops.some((c) => {
        const box = nearest(c.frameTs);
        return box !== undefined && iou(box, c.box) >= MATCH_IOU;
      })
    )
      found++;
  }
  return { found, total: people.length };
}

interface CameraRow {
  cameras: number;
  /** CPU seconds per second (cores busy), whole process tree. */
  cpuPerSecond: number;
  /** The same, split: ffmpeg children, the main thread (frames in, motion gate, tracking, crops), other threads (detection). */
  cpuSplitPerSecond: CpuSplit;
  perCameraFps: number;
  minCameraFps: number;
  analysedFps: number;
  dropped: number;
  detectMs: number;
  load: number;
  sustained: boolean;
}

/** `otherSize`: every second camera detects at this input (cameras[].detectorInputSize), a mixed fleet on one pool. */
async function runCameras(n: number, detector: DetectorConfig, otherSize?: number): Promise<CameraRow> {
  const manager = new CameraManager({
    logger,
    detector,
    counting: cameraUnit === 'people' ? PEOPLE : FACES,
    tracker: TrackerConfigSchema.parse({}),
    cropSink: async () => undefined,
    trackEventSink: async () => undefined,
    statusSink: () => undefined,
    statusIntervalMs: 0,
  });
  await manager.start();
  for (let i = 0; i < n; i++) {
    await manager.add(
      CameraConfigSchema.parse({
        id: `cam-${i}`,
        url: SAMPLE,
        fps: cameraFps,
        loop: true,
        realtime: true,
        ...(otherSize && i % 2 === 1 ? { detectorInputSize: otherSize } : {}),
      }),
    );
  }
  // Warm-up: every camera streaming, then 3 s more.
  for (let i = 0; i < 300 && manager.list().some((s) => s.state !== 'streaming'); i++) await sleep(100);
  await sleep(3000);
  const snap = () =>
    manager.listDetails().map((d) => ({
      id: d.cameraId,
      handled: d.framesAnalysed + d.framesSkipped,
      analysed: d.framesAnalysed,
      dropped: d.framesDropped,
      inn: d.framesIn,
    }));
  const a = snap();
  const l0 = loadavg()[0] ?? 0;
  const t0 = performance.now();
  const cpuStart = cpuSplit();
  await sleep(cameraSeconds * 1000);
  const b = snap();
  const s = (performance.now() - t0) / 1000;
  const cpuEnd = cpuSplit();
  const split = {
    ffmpeg: (cpuEnd.ffmpeg - cpuStart.ffmpeg) / s,
    main: (cpuEnd.main - cpuStart.main) / s,
    threads: (cpuEnd.threads - cpuStart.threads) / s,
  };
  const cpuPerSecond = split.ffmpeg + split.main + split.threads;
  const detectMs = manager.listDetails().reduce((sum, d) => sum + d.detectMsMean, 0) / n;
  await manager.stop();
  const per = b.map((x, i) => (x.handled - (a[i]?.handled ?? 0)) / s);
  const analysed = b.reduce((sum, x, i) => sum + x.analysed - (a[i]?.analysed ?? 0), 0) / s;
  const inn = b.reduce((sum, x, i) => sum + x.inn - (a[i]?.inn ?? 0), 0);
  const dropped = b.reduce((sum, x, i) => sum + x.dropped - (a[i]?.dropped ?? 0), 0);
  const perCameraFps = per.reduce((x, y) => x + y, 0) / n;
  const minCameraFps = Math.min(...per);
  const dropShare = inn > 0 ? dropped / inn : 0;
  return {
    cameras: n,
    cpuPerSecond,
    cpuSplitPerSecond: split,
    perCameraFps,
    minCameraFps,
    analysedFps: analysed,
    dropped: dropShare,
    detectMs,
    load: (l0 + (loadavg()[0] ?? 0)) / 2,
    sustained: minCameraFps >= 0.9 * cameraFps && dropShare <= 0.1,
  };
}

const f1 = (x: number) => x.toFixed(1);
const pct = (a: number, b: number) => (b === 0 ? 'n/a' : `${((100 * a) / b).toFixed(1)} %`);

interface ComparisonJson {
  readonly naiveFps: number;
  readonly rows: readonly object[];
}

/** Parts 1-3: the naive loop and CrowdLens on the same clip, with recall; prints its table. */
async function compareWithNaive(
  ssd: DetectorConfig,
  tiny: DetectorConfig,
  retina: DetectorConfig,
): Promise<ComparisonJson & { naiveCpuMs: number }> {
  const fps = 10; // the sample's native rate: every frame
  const dir = mkdtempSync(join(tmpdir(), 'crowdlens-bench-'));
  const clip = join(dir, 'clip.mp4');
  execFileSync('ffmpeg', [
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    '-t',
    String(seconds),
    '-i',
    SAMPLE,
    '-map',
    '0:v:0',
    '-c',
    'copy',
    clip,
  ]);
  process.stderr.write(
    `clip: first ${seconds} s of assets/sample.mp4 at ${fps} fps, 640x360; load average ${loadavg().map(f1).join(' ')}\n`,
  );

  process.stderr.write('CrowdLens (SSD on onnxruntime, 2 workers, motion gating: the default)...\n');
  const crowd = await runCrowdLens(
    'CrowdLens: SSD on onnxruntime, 2 workers, motion gate (default)',
    clip,
    fps,
    ssd,
    true,
  );
  process.stderr.write('CrowdLens, people counting (NanoDet 416 + SSD faces, 2 workers, motion gating)...\n');
  const crowdPeople = await runCrowdLens(
    'CrowdLens: people (NanoDet 416) + SSD faces, 2 workers, motion gate (counting default)',
    clip,
    fps,
    ssd,
    true,
    PEOPLE,
  );
  process.stderr.write('CrowdLens (RetinaFace on onnxruntime, 2 workers, motion gating)...\n');
  const crowdRetina = await runCrowdLens(
    `CrowdLens: RetinaFace ${retina.inputSize} on onnxruntime, 2 workers, motion gate`,
    clip,
    fps,
    retina,
    true,
  );
  process.stderr.write('CrowdLens, people counting with RetinaFace faces...\n');
  const crowdPeopleRetina = await runCrowdLens(
    `CrowdLens: people (NanoDet 416) + RetinaFace ${retina.inputSize} faces, 2 workers, motion gate`,
    clip,
    fps,
    retina,
    true,
    PEOPLE,
  );
  process.stderr.write('CrowdLens (SSD on onnxruntime, 2 workers, no gating)...\n');
  const crowdNoGate = await runCrowdLens('CrowdLens: SSD on onnxruntime, 2 workers, no gate', clip, fps, ssd, false);
  process.stderr.write('CrowdLens (Tiny 416 on TF.js, 2 workers, motion gating)...\n');
  const crowdTiny = await runCrowdLens('CrowdLens: Tiny 416 on TF.js, 2 workers, motion gate', clip, fps, tiny, true);
  process.stderr.write('naive loop (SSD + age/gender, main thread, every frame)...\n');
  const naive = await runNaive(clip, fps);

  const rows = [crowd, crowdPeople, crowdRetina, crowdPeopleRetina, crowdNoGate, crowdTiny].map((r) => {
    const fr = frameRecall(naive.faces, r.faces);
    const pr = personRecall(naive.faces, r.crops, fps);
    const prNear = personRecall(naive.faces, r.crops, fps, Math.round(fps / 2));
    const e2eMs = r.ms + r.classifyMs;
    return {
      r,
      fr,
      pr,
      prNear,
      fps: (r.frames * 1000) / r.ms,
      e2eFps: (r.frames * 1000) / e2eMs,
      cpuMs: (r.cpu * 1000) / r.frames,
    };
  });
  const naiveFps = (naive.frames * 1000) / naive.ms;
  const naiveCpuMs = (naive.cpu * 1000) / naive.frames;
  const refFaces = naive.faces.reduce((n, f) => n + big(f).length, 0);
  const refPeople = personRecall(naive.faces, [], fps).total;

  const out: string[] = [];
  out.push(
    `### ingest vs naive loop (same clip: ${naive.frames} frames, ${seconds} s of assets/sample.mp4 at ${fps} fps)`,
  );
  out.push('');
  out.push(
    '| pipeline | frames/s (decode→detect→track→crop) | + gender of its crops | × naive (wall) | CPU ms per frame (all threads + ffmpeg) | × naive (CPU) | analysed / skipped | tracks | crops | frame recall vs SSD | person recall vs SSD | person recall, crop within 0.5 s of a reference sighting |',
  );
  out.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  out.push(
    `| naive: SSD + age/gender, main thread, every frame | ${f1(naiveFps)} | ${f1(naiveFps)} | 1.0 | ${naiveCpuMs.toFixed(0)} | 1.0 | ${naive.frames} / 0 | – | – | reference (${refFaces} faces ≥ ${MIN_FACE} px) | reference (${refPeople} people) | reference |`,
  );
  for (const { r, fr, pr, prNear, fps: rf, e2eFps, cpuMs } of rows) {
    out.push(
      `| ${r.label} | ${f1(rf)} | ${f1(e2eFps)} | **${f1(e2eFps / naiveFps)}** | ${cpuMs.toFixed(0)} | **${f1(naiveCpuMs / cpuMs)}** | ${r.analysed} / ${r.skipped} | ${r.tracks} | ${r.crops.length} | ${pct(fr.found, fr.total)} | ${pct(pr.found, pr.total)} (${pr.found}/${pr.total}) | ${prNear.found}/${prNear.total} |`,
    );
  }
  out.push('');
  out.push(
    `Load average at the end: ${loadavg().map(f1).join(' ')} on ${availableParallelism()} cores. Wall-clock rates depend on what else runs; CPU per frame much less. ` +
      'On an otherwise idle 2-core machine the naive loop runs at about 1000 / its CPU ms per frame (one thread), CrowdLens at up to 2 x that (worker threads).',
  );
  out.push(
    `× naive uses the "+ gender" column: both sides end with a gender per face they report (naive: ${naive.genders} classifications, one per face per frame; CrowdLens: one per crop).`,
  );
  process.stdout.write(`${out.join('\n')}\n\n`);

  return {
    naiveCpuMs,
    naiveFps,
    rows: rows.map((x) => ({
      label: x.r.label,
      fps: x.fps,
      e2eFps: x.e2eFps,
      frameRecall: x.fr,
      personRecall: x.pr,
      personRecallNear: x.prNear,
      analysed: x.r.analysed,
      skipped: x.r.skipped,
    })),
  };
}

interface DetectorRow {
  label: string;
  cpuMs: number;
  clip: { found: number; total: number; unmatched: number };
  small: { found: number; total: number; unmatched: number };
}

/**
 * Part 4: each face detector alone on the calling thread (CPU per frame), its
 * recall on sample frames (faces ≥ 32 px, the naive loop's faces as the
 * reference) and on the small-faces set, RetinaFace at two input sizes and
 * several score thresholds (how its defaults were chosen).
 */
async function compareDetectors(ssd: DetectorConfig, retina: DetectorConfig): Promise<DetectorRow[]> {
  const frames: Frame[] = [];
  for await (const f of decodeFrames(SAMPLE, 2)) frames.push(f);
  const { faceapi, modelDir } = await tfjsRuntime();
  await faceapi.nets.ssdMobilenetv1.loadFromDisk(modelDir);
  const options = new faceapi.SsdMobilenetv1Options({ minConfidence: 0.5, maxResults: 100 });
  const naiveDetect = async (f: Frame): Promise<FaceDetection[]> => {
    const input = faceapi.tf.tensor3d(
      new Uint8Array(f.data.buffer, f.data.byteOffset, f.data.length),
      [f.height, f.width, 3],
      'int32',
    );
    try {
      return (await faceapi.detectAllFaces(input, options)).map((d) => ({
        box: { x: d.box.x, y: d.box.y, width: d.box.width, height: d.box.height },
        score: d.score,
      }));
    } finally {
      input.dispose();
    }
  };
  process.stderr.write(`small faces: reference (naive SSD) on ${frames.length} frames...\n`);
  const reference: FaceDetection[][] = [];
  for (const f of frames) reference.push(await naiveDetect(f));
  const set = await buildSmallFacesSet(frames, async (_, i) => (reference[i] ?? []).map((d) => d.box));
  process.stderr.write(`small faces: ${set.length} mosaics, ${set.reduce((n, x) => n + x.truth.length, 0)} faces\n`);

  const clipScore = (found: readonly (readonly FaceDetection[])[]) => {
    let hit = 0;
    let total = 0;
    let unmatched = 0;
    frames.forEach((_, i) => {
      const ref = big((reference[i] ?? []).map((d) => d.box));
      const got = big((found[i] ?? []).map((d) => d.box));
      total += ref.length;
      const m = matches(ref, got);
      hit += m;
      unmatched += got.length - m;
    });
    return { found: hit, total, unmatched };
  };
  const rows: DetectorRow[] = [];
  const measure = async (
    label: string,
    detect: (f: Frame) => Promise<FaceDetection[]>,
    thresholds: readonly number[] = [0],
  ): Promise<void> => {
    const onClip: FaceDetection[][] = [];
    const c0 = process.cpuUsage();
    for (const f of frames) onClip.push(await detect(f));
    const c = process.cpuUsage(c0);
    const onSmall: FaceDetection[][] = [];
    for (const x of set) onSmall.push(await detect(x.frame));
    for (const t of thresholds) {
      const keep = (d: readonly FaceDetection[]) => d.filter((x) => x.score >= t);
      rows.push({
        label: t > 0 ? `${label}, min score ${t}` : label,
        cpuMs: (c.user + c.system) / 1000 / frames.length,
        clip: clipScore(onClip.map(keep)),
        small: scoreSmallFaces(set, onSmall.map(keep)),
      });
    }
  };
  process.stderr.write('small faces: naive SSD (face-api, TF.js)...\n');
  await measure('naive loop’s detector: face-api SSD on TF.js (min score 0.5)', naiveDetect);
  const small = { minFaceSize: 8, workers: 0 };
  const onnxSsd = createThreadDetector({ ...ssd, ...small });
  await onnxSsd.load();
  process.stderr.write('small faces: SSD on onnxruntime...\n');
  await measure('SSD on onnxruntime (min score 0.5)', (f) => onnxSsd.detect(f));
  await onnxSsd.close();
  for (const inputSize of [416, 640]) {
    const d = createThreadDetector({ ...retina, ...small, inputSize, minScore: 0.5 });
    await d.load();
    process.stderr.write(`small faces: RetinaFace ${inputSize}...\n`);
    await measure(`RetinaFace ${inputSize}`, (f) => d.detect(f), [0.5, 0.6, 0.75, 0.9]);
    await d.close();
  }
  // The people detector's own cost, for the counting pipeline's budget (it finds no faces: no recall here).
  const nanodet = new OnnxNanodetPersonDetector();
  await nanodet.load();
  const n0 = process.cpuUsage();
  for (const f of frames) await nanodet.detect(f);
  const n = process.cpuUsage(n0);
  await nanodet.close();

  const out: string[] = [];
  out.push(
    `### face detectors alone (one thread), recall on sample frames and on small faces (${frames.length} frames of assets/sample.mp4 at 2 fps, 640x360; ${set.length} mosaics of them shrunk to 1/3 and 1/4, faces ${SMALL_FACE_MIN}-${SMALL_FACE_MAX} px)`,
  );
  out.push('');
  out.push(
    `| detector | CPU ms per 640x360 frame | recall, faces ≥ ${MIN_FACE} px (vs naive) | detections on no reference face | small-faces recall (${SMALL_FACE_MIN}-${SMALL_FACE_MAX} px) | small-faces: detections on no known face |`,
  );
  out.push('| --- | ---: | ---: | ---: | ---: | ---: |');
  for (const r of rows) {
    out.push(
      `| ${r.label} | ${r.cpuMs.toFixed(1)} | ${pct(r.clip.found, r.clip.total)} (${r.clip.found}/${r.clip.total}) | ${r.clip.unmatched} | ${pct(r.small.found, r.small.total)} (${r.small.found}/${r.small.total}) | ${r.small.unmatched} |`,
    );
  }
  out.push(
    `| NanoDet-g 416 person detector (the counting pipeline's, for its cost) | ${((n.user + n.system) / 1000 / frames.length).toFixed(1)} | – | – | – | – |`,
  );
  out.push('');
  out.push(
    'The small-faces truth is the naive loop’s detector on the unshrunk frames (3-4x the resolution); detections on no known face may be faces it missed there. ' +
      `Load average at the end: ${loadavg().map(f1).join(' ')}.`,
  );
  process.stdout.write(`${out.join('\n')}\n\n`);
  return rows;
}

async function main(): Promise<void> {
  const ssd = DetectorConfigSchema.parse({ type: 'ssd', minScore: 0.5, minFaceSize: MIN_FACE, workers: 2 });
  const tiny = DetectorConfigSchema.parse({
    type: 'tiny',
    inputSize: 416,
    minScore: 0.5,
    minFaceSize: MIN_FACE,
    workers: 2,
  });
  const retina = DetectorConfigSchema.parse({ type: 'retinaface', minFaceSize: MIN_FACE, workers: 2 });
  process.stderr.write(`load average at the start: ${loadavg().map(f1).join(' ')}\n`);
  const comparison = camerasOnly || detectorsOnly ? null : await compareWithNaive(ssd, tiny, retina);
  const detectors = camerasOnly ? null : await compareDetectors(ssd, retina);
  if (detectorsOnly) return;

  const camRows: (CameraRow & { detector: string })[] = [];
  for (const name of cameraDetectors) {
    // `retinaface@416`: RetinaFace at another input size (the resolution a camera's faces need);
    // `retinaface@640/416`: half the cameras at each, through cameras[].detectorInputSize.
    const [type, sizes] = name.split('@');
    const [size, otherSize] = (sizes ?? '').split('/').map(Number);
    const detector = type === 'retinaface' ? { ...retina, ...(size ? { inputSize: size } : {}) } : ssd;
    const label =
      type === 'retinaface'
        ? `RetinaFace ${detector.inputSize}${otherSize ? ` (half the cameras at ${otherSize})` : ''}`
        : 'SSD';
    for (const n of cameraCounts) {
      process.stderr.write(`cameras (${label}): ${n} x ${cameraFps} fps real time for ${cameraSeconds} s...\n`);
      const row = { ...(await runCameras(n, detector, otherSize || undefined)), detector: label };
      camRows.push(row);
      process.stderr.write(
        `  ${f1(row.perCameraFps)} fps per camera (min ${f1(row.minCameraFps)}), dropped ${pct(row.dropped, 1)}\n`,
      );
      if (!row.sustained && n !== cameraCounts[cameraCounts.length - 1]) {
        process.stderr.write('  not sustained: stopping here\n');
        break;
      }
    }
  }
  const cams: string[] = [];
  cams.push(
    `### cameras at ${cameraFps} fps on this machine (sample video looped in real time, counting unit ${cameraUnit}, 2 detector workers, ${cameraSeconds} s each)`,
  );
  cams.push('');
  cams.push(
    `| face detector | cameras | frames/s per camera (mean / min) | detector frames/s (all cameras) | dropped | mean detection latency | CPU used (cores) | CPU ms per handled frame | of which ffmpeg / main thread / worker threads | load avg | sustained (≥ ${f1(0.9 * cameraFps)} fps, ≤ 10 % dropped) |`,
  );
  cams.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
  for (const c of camRows) {
    const perFrame = (coresBusy: number) => (1000 * coresBusy) / Math.max(0.001, c.perCameraFps * c.cameras);
    const split = c.cpuSplitPerSecond;
    cams.push(
      `| ${c.detector} | ${c.cameras} | ${f1(c.perCameraFps)} / ${f1(c.minCameraFps)} | ${f1(c.analysedFps)} | ${pct(c.dropped, 1)} | ${c.detectMs.toFixed(0)} ms | ${c.cpuPerSecond.toFixed(2)} | ${perFrame(c.cpuPerSecond).toFixed(0)} | ${[split.ffmpeg, split.main, split.threads].map((x) => perFrame(x).toFixed(0)).join(' / ')} | ${f1(c.load)} | ${c.sustained ? 'yes' : 'no'} |`,
    );
  }
  for (const label of [...new Set(camRows.map((c) => c.detector))]) {
    const mine = camRows.filter((c) => c.detector === label);
    const one = mine[0];
    if (one && one.perCameraFps > 0) {
      const perCamera = one.cpuPerSecond / one.cameras;
      cams.push('');
      cams.push(
        `${label}: CPU per camera at ${cameraFps} fps: ${perCamera.toFixed(2)} cores (${one.cameras}-camera run), so an otherwise idle 2-core machine would sustain about ${Math.floor((2 * 0.9) / perCamera)} cameras (90 % of 2 cores).`,
      );
    }
    const best = mine.filter((c) => c.sustained).pop();
    cams.push(`${label}: sustained ${best ? best.cameras : 0} camera(s) at ${cameraFps} analysed fps.`);
  }
  cams.push('');
  cams.push(
    `frames/s per camera counts frames handled (detected, or skipped by the motion gate because nothing moved); dropped = frames the 2-slot queue dropped because detection was behind. Load average now: ${loadavg().map(f1).join(' ')}.`,
  );
  process.stdout.write(`${cams.join('\n')}\n`);

  mkdirSync(join(repoRoot(), 'bench/out'), { recursive: true });
  writeFileSync(
    join(repoRoot(), 'bench/out/ingest-vs-naive.json'),
    JSON.stringify(
      {
        seconds,
        ...comparison,
        detectors,
        cameraFps,
        cameras: camRows,
      },
      null,
      2,
    ),
  );
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
