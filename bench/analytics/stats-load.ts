/**
 * Analytics API under load: the main stats query (`GET /api/stats`) against a
 * SQLite store holding 30 days x 16 cameras of minute buckets (with their hour
 * and day rollups), served by a real analytics process, hit by N concurrent
 * keep-alive clients for a fixed time; the same with 1 client as the baseline.
 *
 *   npm run build
 *   node dist/bench/analytics/stats-load.js [--clients 50] [--seconds 30] [--baseline-seconds 30] [--rounds 3] [--days 30] [--cameras 16]
 *
 * Query mix, round robin per client (each client starts at a different point):
 *   - day-by-hour:    the last 24 h by hour, all cameras        (16 x 24 = 384 rows)
 *   - cam-by-minute:  one camera's last 6 h by minute            (360 rows)
 *   - store-by-day:   one store's (4 cameras) last 30 days by day (120 rows)
 *
 * The server is `node dist/apps/embedded/src/main.js` with role analytics in
 * its own process, so client and server do not share an event loop (they do
 * share the machine's cores). All clients come from 127.0.0.1 and the rate
 * limiter is per address, so the bench config raises the limit; auth is a
 * viewer API key, checked on every request as in production.
 *
 * Latency is per request, from write to the last byte of the body; requests
 * per second count completed 200s. Printed as a markdown table.
 *
 * The 1-client and N-client runs are interleaved in --rounds slices (1, N,
 * 1, N, ...) so that load from other processes on a shared machine hits both
 * alike and the ratio stays meaningful; the CPU line says how much of a core
 * the server actually got.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { repoRoot } from '@crowdlens/runtime';
import { SqlAggregateStore, SqliteDriver } from '@crowdlens/storage';

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const CAMERAS_PER_STORE = 4;
const API_KEY = 'bench-viewer-key-0123456789abcdef';

/** A benchmark's output is its product: plain lines on stdout. */
const report = (line: string): void => void process.stdout.write(`${line}\n`);

interface Args {
  clients: number;
  seconds: number;
  baselineSeconds: number;
  days: number;
  cameras: number;
  warmupSeconds: number;
  rounds: number;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = {
    clients: 50,
    seconds: 30,
    baselineSeconds: 30,
    days: 30,
    cameras: 16,
    warmupSeconds: 3,
    rounds: 3,
  };
  const names: Record<string, keyof Args> = {
    clients: 'clients',
    seconds: 'seconds',
    'baseline-seconds': 'baselineSeconds',
    days: 'days',
    cameras: 'cameras',
    'warmup-seconds': 'warmupSeconds',
    rounds: 'rounds',
  };
  for (let i = 0; i < argv.length; i += 2) {
    const name = names[argv[i]?.replace(/^--/, '') ?? ''];
    const value = Number(argv[i + 1]);
    if (!name || !Number.isInteger(value) || value < (name === 'warmupSeconds' ? 0 : 1)) {
      throw new Error(
        `usage: stats-load [--clients N] [--seconds N] [--baseline-seconds N] [--rounds N] [--days N] [--cameras N] [--warmup-seconds N] (bad: ${argv[i]})`,
      );
    }
    args[name] = value;
  }
  return args;
}

/** Deterministic PRNG (mulberry32): the same store every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function poisson(lambda: number, random: () => number): number {
  const limit = Math.exp(-lambda);
  let k = 0;
  let p = random();
  while (p > limit) {
    k++;
    p *= random();
  }
  return k;
}

/**
 * Visitors per minute per camera by hour of day (UTC): a site open around the clock (a mall or
 * station concourse) with quiet nights, a lunchtime and an evening peak; nearly every minute has a row.
 */
function arrivalRate(hourOfDay: number, cameraWeight: number): number {
  const shape = [
    0.8, 0.6, 0.5, 0.5, 0.6, 0.8, 1.2, 1.8, 2.4, 2.8, 3.0, 3.6, 4.4, 4.0, 3.2, 3.0, 3.4, 4.2, 4.8, 4.0, 2.8, 1.9, 1.4,
    1.0,
  ];
  return shape[hourOfDay]! * cameraWeight;
}

interface Seeded {
  readonly minuteRows: number;
  readonly hourRows: number;
  readonly dayRows: number;
  readonly visitors: number;
  readonly seconds: number;
  readonly end: number;
}

type Counts = [faces: number, visitors: number, male: number, female: number, unknown: number];

/**
 * The schema comes from the store's own migrations; the rows go in with plain SQL in one transaction
 * (the pipeline's incremental path would take hours for 700k buckets). Hour and day rows are the exact
 * sums of their minutes, as the incremental rollups keep them.
 */
async function seed(path: string, cameraIds: readonly string[], days: number): Promise<Seeded> {
  const started = Date.now();
  const store = new SqlAggregateStore(new SqliteDriver(path), { voter: () => 'unknown', allowedLatenessMs: 0 });
  await store.migrate();
  await store.close();

  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  const insert = db.prepare(
    `INSERT INTO buckets (camera_id, size, bucket_start, faces, visitors, male, female, unknown) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const watermark = db.prepare(`INSERT INTO camera_watermarks (camera_id, max_ts, late_events) VALUES (?, ?, ?)`);
  const end = Math.floor(Date.now() / MINUTE) * MINUTE;
  const start = end - days * DAY;
  const random = rng(42);
  let minuteRows = 0;
  let hourRows = 0;
  let dayRows = 0;
  let visitors = 0;

  db.transaction(() => {
    cameraIds.forEach((cameraId, c) => {
      const weight = 0.6 + (c % 5) * 0.2; // busy doors and quiet corners
      const hours = new Map<number, Counts>();
      const daysMap = new Map<number, Counts>();
      for (let t = start; t < end; t += MINUTE) {
        const v = poisson(arrivalRate(new Date(t).getUTCHours(), weight), random);
        // Each person is classified on a few crops; people first seen a minute earlier add faces too.
        const faces = poisson(v * 2.4 + 1.5, random);
        if (v === 0 && faces === 0) continue;
        const counts: Counts = [faces, v, 0, 0, 0];
        for (let i = 0; i < v; i++) {
          const r = random();
          counts[r < 0.46 ? 2 : r < 0.93 ? 3 : 4]++;
        }
        insert.run(cameraId, 'minute', t, ...counts);
        minuteRows++;
        visitors += v;
        for (const [map, size] of [
          [hours, HOUR],
          [daysMap, DAY],
        ] as const) {
          const key = Math.floor(t / size) * size;
          const sum = map.get(key) ?? [0, 0, 0, 0, 0];
          for (let i = 0; i < 5; i++) sum[i]! += counts[i]!;
          map.set(key, sum);
        }
      }
      for (const [key, sum] of hours) insert.run(cameraId, 'hour', key, ...sum);
      for (const [key, sum] of daysMap) insert.run(cameraId, 'day', key, ...sum);
      hourRows += hours.size;
      dayRows += daysMap.size;
      watermark.run(cameraId, end - 1, c % 3);
    });
  })();
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.exec('ANALYZE');
  db.close();
  return { minuteRows, hourRows, dayRows, visitors, seconds: (Date.now() - started) / 1000, end };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function startServer(
  dir: string,
  dbPath: string,
  cameraIds: readonly string[],
  port: number,
): Promise<ChildProcess> {
  const config = {
    role: 'analytics',
    dataDir: dir,
    logLevel: 'warn',
    http: { port, host: '127.0.0.1' },
    store: { type: 'sqlite', path: dbPath },
    cameras: cameraIds.map((id, i) => ({
      id,
      name: `Camera ${i + 1}`,
      url: `rtsp://10.0.${Math.floor(i / CAMERAS_PER_STORE)}.${(i % CAMERAS_PER_STORE) + 1}/stream`,
      group: `store-${Math.floor(i / CAMERAS_PER_STORE) + 1}`,
    })),
    // Keep every seeded minute: retention runs at boot.
    analytics: { minuteRetentionDays: 400 },
    auth: {
      apiKeys: [{ name: 'bench', role: 'viewer', keySha256: createHash('sha256').update(API_KEY).digest('hex') }],
    },
    // One client address for all bench clients: the per-address limiter would otherwise be what is measured.
    rateLimit: { perSecond: 1_000_000, burst: 1_000_000 },
  };
  const configPath = join(dir, 'config.json');
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  const child = spawn(process.execPath, [join(repoRoot(), 'dist/apps/embedded/src/main.js')], {
    env: { ...process.env, CROWDLENS_CONFIG: configPath, CROWDLENS_ROLE: 'analytics' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`analytics process exited with ${child.exitCode}: ${stderr}`);
    const ok = await fetch(`http://127.0.0.1:${port}/ready`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) return child;
    if (Date.now() > deadline) throw new Error(`analytics process not ready after 60 s: ${stderr}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

type Kind = 'day-by-hour' | 'cam-by-minute' | 'store-by-day';
const KINDS: readonly Kind[] = ['day-by-hour', 'cam-by-minute', 'store-by-day'];

function queryFor(kind: Kind, end: number, cameraIds: readonly string[], random: () => number): string {
  const to = end + MINUTE;
  switch (kind) {
    case 'day-by-hour':
      return `/api/stats?from=${to - DAY}&to=${to}&bucket=hour`;
    case 'cam-by-minute':
      return `/api/stats?camera=${cameraIds[Math.floor(random() * cameraIds.length)]}&from=${to - 6 * HOUR}&to=${to}&bucket=minute`;
    case 'store-by-day': {
      const stores = Math.ceil(cameraIds.length / CAMERAS_PER_STORE);
      return `/api/stats?group=store-${1 + Math.floor(random() * stores)}&from=${to - 30 * DAY}&to=${to}&bucket=day`;
    }
  }
}

function get(agent: Agent, port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent, headers: { 'x-api-key': API_KEY } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

interface RunResult {
  readonly clients: number;
  readonly seconds: number;
  readonly latencies: Record<Kind, number[]>;
  readonly errors: number;
  /** CPU used per wall second over the whole run (1.0 = one core busy). */
  readonly serverCpu: number;
  readonly clientCpu: number;
}

/** utime + stime of a process, seconds (Linux /proc; NaN elsewhere). */
function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // USER_HZ is 100 on Linux
  } catch {
    return NaN;
  }
}

/** N closed-loop clients for `seconds`; the first `warmup` seconds are run but not recorded. */
async function run(
  serverPid: number,
  port: number,
  clients: number,
  seconds: number,
  warmup: number,
  end: number,
  cameraIds: readonly string[],
): Promise<RunResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  const latencies: Record<Kind, number[]> = { 'day-by-hour': [], 'cam-by-minute': [], 'store-by-day': [] };
  let errors = 0;
  const warmUntil = Date.now() + warmup * 1000;
  const stopAt = warmUntil + seconds * 1000;
  const client = async (n: number): Promise<void> => {
    const random = rng(1000 + n);
    for (let i = n; Date.now() < stopAt; i++) {
      const kind = KINDS[i % KINDS.length]!;
      const path = queryFor(kind, end, cameraIds, random);
      const t0 = process.hrtime.bigint();
      const res = await get(agent, port, path);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (Date.now() < warmUntil) continue;
      if (res.status === 200) latencies[kind].push(ms);
      else if (errors++ === 0) process.stderr.write(`bench: ${path} -> ${res.status} ${res.body.slice(0, 200)}\n`);
    }
  };
  const started = Date.now();
  const serverCpu0 = cpuSeconds(serverPid);
  const clientCpu0 = process.cpuUsage();
  await Promise.all(Array.from({ length: clients }, (_, n) => client(n)));
  const wall = (Date.now() - started) / 1000;
  const clientCpu = process.cpuUsage(clientCpu0);
  agent.destroy();
  return {
    clients,
    seconds: wall - warmup,
    latencies,
    errors,
    serverCpu: (cpuSeconds(serverPid) - serverCpu0) / wall,
    clientCpu: (clientCpu.user + clientCpu.system) / 1e6 / wall,
  };
}

/** Rounds of the same client count as one run: latencies pooled, CPU shares weighted by time. */
function merge(runs: readonly RunResult[]): RunResult {
  const seconds = runs.reduce((n, r) => n + r.seconds, 0);
  const latencies: Record<Kind, number[]> = { 'day-by-hour': [], 'cam-by-minute': [], 'store-by-day': [] };
  for (const r of runs) for (const k of KINDS) latencies[k].push(...r.latencies[k]);
  return {
    clients: runs[0]!.clients,
    seconds,
    latencies,
    errors: runs.reduce((n, r) => n + r.errors, 0),
    serverCpu: runs.reduce((n, r) => n + r.serverCpu * r.seconds, 0) / seconds,
    clientCpu: runs.reduce((n, r) => n + r.clientCpu * r.seconds, 0) / seconds,
  };
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

interface Row {
  readonly clients: number;
  readonly query: string;
  readonly requests: number;
  readonly rps: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly errors: number;
}

function summarise(r: RunResult): Row[] {
  const row = (query: string, values: number[], errors: number): Row => {
    const sorted = [...values].sort((a, b) => a - b);
    return {
      clients: r.clients,
      query,
      requests: sorted.length,
      rps: sorted.length / r.seconds,
      p50: percentile(sorted, 50),
      p95: percentile(sorted, 95),
      p99: percentile(sorted, 99),
      errors,
    };
  };
  return [
    ...KINDS.map((k) => row(k, r.latencies[k], 0)),
    row(
      'all (mix)',
      KINDS.flatMap((k) => r.latencies[k]),
      r.errors,
    ),
  ];
}

/** Checks each query answers with data before timing anything: an empty answer would be fast and meaningless. */
async function verify(port: number, end: number, cameraIds: readonly string[]): Promise<Record<Kind, number>> {
  const agent = new Agent({ keepAlive: false });
  const rows = {} as Record<Kind, number>;
  for (const kind of KINDS) {
    const res = await get(agent, port, queryFor(kind, end, cameraIds, rng(7)));
    if (res.status !== 200) throw new Error(`${kind}: HTTP ${res.status} ${res.body.slice(0, 300)}`);
    const body = JSON.parse(res.body) as { series: { suppressed: boolean }[] };
    if (body.series.length === 0) throw new Error(`${kind}: no rows`);
    rows[kind] = body.series.length;
  }
  return rows;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const dir = mkdtempSync(join(tmpdir(), 'crowdlens-stats-load-'));
  const dbPath = join(dir, 'crowdlens.db');
  const cameraIds = Array.from({ length: args.cameras }, (_, i) => `cam-${String(i + 1).padStart(2, '0')}`);
  let server: ChildProcess | undefined;
  try {
    const seeded = await seed(dbPath, cameraIds, args.days);
    report(
      `store: ${args.days} days x ${args.cameras} cameras (${Math.ceil(args.cameras / CAMERAS_PER_STORE)} stores): ` +
        `${seeded.minuteRows.toLocaleString('en-US')} minute, ${seeded.hourRows.toLocaleString('en-US')} hour, ` +
        `${seeded.dayRows.toLocaleString('en-US')} day buckets, ${seeded.visitors.toLocaleString('en-US')} visitors ` +
        `(seeded in ${seeded.seconds.toFixed(1)} s)`,
    );
    const port = await freePort();
    server = await startServer(dir, dbPath, cameraIds, port);
    const rows = await verify(port, seeded.end, cameraIds);
    report(`rows per answer: ${KINDS.map((k) => `${k} ${rows[k]}`).join(', ')}`);
    report(
      `machine: ${availableParallelism()} cores, load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')} before the run`,
    );

    const pid = server.pid!;
    const baselineRuns: RunResult[] = [];
    const loadedRuns: RunResult[] = [];
    for (let round = 0; round < args.rounds; round++) {
      const warmup = round === 0 ? args.warmupSeconds : 0;
      const slice = (total: number) => total / args.rounds;
      baselineRuns.push(await run(pid, port, 1, slice(args.baselineSeconds), warmup, seeded.end, cameraIds));
      loadedRuns.push(await run(pid, port, args.clients, slice(args.seconds), warmup, seeded.end, cameraIds));
    }
    const baselineRun = merge(baselineRuns);
    const loadedRun = merge(loadedRuns);
    const baseline = summarise(baselineRun);
    const loaded = summarise(loadedRun);
    report('');
    report('| clients | query | requests | req/s | p50 ms | p95 ms | p99 ms | errors |');
    report('| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const r of [...baseline, ...loaded]) {
      report(
        `| ${r.clients} | ${r.query} | ${r.requests} | ${r.rps.toFixed(1)} | ${r.p50.toFixed(1)} | ${r.p95.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.errors} |`,
      );
    }
    const b = baseline.at(-1)!;
    const l = loaded.at(-1)!;
    report('');
    report(
      `${args.clients} clients vs 1: throughput x${(l.rps / b.rps).toFixed(2)}, p50 x${(l.p50 / b.p50).toFixed(1)}, ` +
        `p95 x${(l.p95 / b.p95).toFixed(1)}, p99 x${(l.p99 / b.p99).toFixed(1)}`,
    );
    const cpu = (r: RunResult) =>
      `server ${(r.serverCpu * 100).toFixed(0)}%, bench clients ${(r.clientCpu * 100).toFixed(0)}%`;
    report(`CPU (100% = one core): 1 client: ${cpu(baselineRun)}; ${args.clients} clients: ${cpu(loadedRun)}`);
    const out = join(repoRoot(), 'bench/out');
    mkdirSync(out, { recursive: true });
    writeFileSync(
      join(out, 'analytics-stats-load.json'),
      JSON.stringify(
        {
          at: new Date().toISOString(),
          args,
          seeded,
          rowsPerAnswer: rows,
          baseline,
          loaded,
          cpu: {
            baseline: [baselineRun.serverCpu, baselineRun.clientCpu],
            loaded: [loadedRun.serverCpu, loadedRun.clientCpu],
          },
        },
        null,
        2,
      ),
    );
  } finally {
    if (server && server.exitCode === null) {
      const exited = new Promise((r) => server!.once('exit', r));
      server.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (server.exitCode === null) server.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`stats-load failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
