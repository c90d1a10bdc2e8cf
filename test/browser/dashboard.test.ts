/**
 * The dashboard in a real browser (Debian's Chromium driven by playwright-core)
 * against a whole embedded CrowdLens reading the looping sample video with two
 * cameras in two stores: login and its errors, live counts rising, the range
 * picker, the CSV download checked against the API, the store comparison
 * checked against its API, and what a viewer may not see. It also saves the
 * README's screenshot (docs/dashboard.png).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Page, type Response as PageResponse } from 'playwright-core';
import { parseConfig } from '@crowdlens/config';
import { MESSAGE_BUS, type MessageBus } from '@crowdlens/bus';
import { GENDER_PREDICTIONS_TOPIC } from '@crowdlens/contracts';
import { hashPassword } from '@crowdlens/common';
import { createLogger, repoRoot } from '@crowdlens/runtime';
import { startCrowdLens, type RunningApp } from '../../apps/embedded/src/bootstrap';

const CHROMIUM = '/usr/bin/chromium';
// Headless, and nothing that phones home or fetches components: the machine has no internet and must not try.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
];
const USERS = { operator: ['olga', 'olga-pass-1'], viewer: ['vic', 'vic-pass-1'] } as const;
const CSV_HEADER = 'bucket_start,camera_id,group,suppressed,faces,visitors,female,male,unknown,coverage';
/** The two cameras, each in its own store, both on the sample video. */
const GROUP_OF: Readonly<Record<string, string>> = { entrance: 'demo-store', checkout: 'demo-outlet' };

interface SeriesRow {
  cameraId: string;
  bucketStart: number;
  suppressed: boolean;
  faces: number | null;
  visitors: number | null;
  female: number | null;
  male: number | null;
  unknown: number | null;
  coverage: number | null;
}
interface StatsBody {
  bucket: string;
  series: SeriesRow[];
}
interface CsvRow {
  bucketStart: number;
  cameraId: string;
  group: string;
  suppressed: boolean;
  faces: number | null;
  visitors: number | null;
  female: number | null;
  male: number | null;
  unknown: number | null;
  coverage: number | null;
}

interface StoreRow {
  group: string | null;
  label: string;
  suppressed: boolean;
  faces: number | null;
  visitors: number | null;
  female: number | null;
  coverage: number | null;
  visitorShares: { female: number; male: number; unknown: number } | null;
  meanDwellMs: number | null;
}
interface StoresBody {
  from: number;
  to: number;
  bucket: string;
  groups: StoreRow[];
}
/** One row of the Stores table as the page shows it: data-col -> text. */
interface ShownStore {
  store: string;
  suppressed: string;
  cells: Record<string, string>;
}

/** What the page functions below touch in the browser (the test compiles without the DOM lib). */
interface TimelineChart {
  data: { labels: string[]; datasets: { label: string; data: (number | null)[] }[] };
}
interface PageElement {
  textContent: string | null;
  hidden: boolean;
  dataset: Record<string, string | undefined>;
  querySelectorAll(selector: string): Iterable<PageElement>;
}
interface PageGlobals {
  document: {
    getElementById(id: string): PageElement | null;
    querySelectorAll(selector: string): Iterable<PageElement>;
  };
  Chart: { getChart(id: string): TimelineChart | undefined };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls a condition that lives outside the page (the API, the store). */
async function until(what: string, timeoutMs: number, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(250);
  }
}

/** "1,234" -> 1234; "–" (nothing yet) -> 0. */
const kpiNumber = (text: string | null): number => Number((text ?? '').replace(/[^\d]/g, '') || '0');
/** Mean dwell as the Stores table writes it: "0.4 s", "44 s", "3 min 20 s". */
const dwellText = (ms: number): string => {
  if (ms < 9950) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
};

/** The Stores table, row by row, in the order shown. */
function readStoresTable(): ShownStore[] {
  const g = globalThis as unknown as PageGlobals;
  return [...g.document.querySelectorAll('[data-testid=stores-table] tbody tr')].map((tr) => ({
    store: tr.dataset.store ?? '',
    suppressed: tr.dataset.suppressed ?? '',
    cells: Object.fromEntries(
      [...tr.querySelectorAll('td')].map((td) => [td.dataset.col ?? '', (td.textContent ?? '').trim()]),
    ),
  }));
}

/** Differences between what the table shows and an API answer; empty when they agree. */
function storeMismatches(shown: readonly ShownStore[], api: StoresBody): string[] {
  const out: string[] = [];
  if (shown.length !== api.groups.length) out.push(`${shown.length} rows shown, ${api.groups.length} in the API`);
  for (const g of api.groups) {
    const row = shown.find((r) => r.store === g.label);
    if (!row) {
      out.push(`${g.label} not shown`);
      continue;
    }
    const expect = (what: string, got: unknown, want: unknown) => {
      if (got !== want) out.push(`${g.label} ${what}: shown ${String(got)}, API ${String(want)}`);
    };
    expect('suppressed', row.suppressed, String(g.suppressed));
    if (g.suppressed) {
      expect('marker', /^◆ suppressed/.test(row.cells.suppressed ?? ''), true);
      continue;
    }
    const pct = (x: number | undefined) => (x === undefined ? '–' : `${Math.round(x * 100)}%`);
    expect('visitors', kpiNumber(row.cells.visitors ?? null), g.visitors);
    expect('faces', kpiNumber(row.cells.faces ?? null), g.faces);
    expect('% female', row.cells.female, pct(g.visitorShares?.female));
    expect('% male', row.cells.male, pct(g.visitorShares?.male));
    expect('% unknown', row.cells.unknown, pct(g.visitorShares?.unknown));
    expect('coverage', row.cells.coverage, pct(g.coverage ?? undefined));
    expect('mean dwell', row.cells.dwell, g.meanDwellMs === null ? '–' : dwellText(g.meanDwellMs));
  }
  return out;
}

function parseCsv(text: string): { header: string; rows: CsvRow[] } {
  const [header = '', ...lines] = text.trimEnd().split('\n');
  const num = (cell: string | undefined): number | null => {
    if (cell === undefined || cell === '') return null;
    const n = Number(cell);
    if (!Number.isInteger(n) || n < 0) throw new Error(`not a count: "${cell}"`);
    return n;
  };
  const rows = lines.map((line) => {
    const cells = line.split(',');
    if (cells.length !== 10) throw new Error(`expected 10 cells: ${line}`);
    const bucketStart = Date.parse(cells[0]!);
    if (!Number.isFinite(bucketStart) || new Date(bucketStart).toISOString() !== cells[0])
      throw new Error(`bad timestamp: ${line}`);
    if (cells[3] !== 'true' && cells[3] !== 'false') throw new Error(`bad suppressed flag: ${line}`);
    return {
      bucketStart,
      cameraId: cells[1]!,
      group: cells[2]!,
      suppressed: cells[3] === 'true',
      faces: num(cells[4]),
      visitors: num(cells[5]),
      female: num(cells[6]),
      male: num(cells[7]),
      unknown: num(cells[8]),
      coverage: cells[9] === '' ? null : Number(cells[9]),
    };
  });
  return { header, rows };
}

describe('dashboard in Chromium', () => {
  let running: RunningApp;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let dataDir: string;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: run scripts/setup-system.sh`);
    dataDir = mkdtempSync(join(tmpdir(), 'crowdlens-browser-'));
    const config = parseConfig({
      role: 'embedded',
      dataDir,
      logLevel: 'warn',
      http: { port: 0, host: '127.0.0.1' },
      cameras: [
        {
          id: 'entrance',
          name: 'Entrance',
          url: join(repoRoot(), 'assets/sample.mp4'),
          group: GROUP_OF.entrance,
          fps: 3,
          loop: true,
          realtime: true,
        },
        // A second store, so the dashboard has stores to compare.
        {
          id: 'checkout',
          name: 'Checkout',
          url: join(repoRoot(), 'assets/sample.mp4'),
          group: GROUP_OF.checkout,
          fps: 2,
          loop: true,
          realtime: true,
        },
      ],
      // k = 2 so the first minutes of a 44 s clip already show; suppression is still on.
      // allowedLatenessMs: the test back-dates one lone visitor to see a suppressed bucket.
      analytics: { kAnonymity: 2, liveIntervalMs: 1000, allowedLatenessMs: 24 * 3_600_000 },
      auth: {
        users: [
          { username: USERS.operator[0], role: 'operator', passwordHash: hashPassword(USERS.operator[1]) },
          { username: USERS.viewer[0], role: 'viewer', passwordHash: hashPassword(USERS.viewer[1]) },
        ],
      },
      rateLimit: { perSecond: 200, burst: 400 },
    });
    [running, browser] = await Promise.all([
      startCrowdLens(config, createLogger('warn')),
      chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS }),
    ]);
    context = await browser.newContext({ viewport: { width: 1440, height: 900 }, acceptDownloads: true });
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
    page.on('pageerror', (err) => void pageErrors.push(String(err)));
    // 401s are expected (logged out, wrong password); Chromium logs each failed request as a console error.
    page.on('console', (msg) => {
      if (msg.type() === 'error' && !/Failed to load resource.*(401|403)/.test(msg.text())) pageErrors.push(msg.text());
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await running?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const login = async (who: keyof typeof USERS, password: string = USERS[who][1]): Promise<void> => {
    await page.getByTestId('login-form').waitFor({ state: 'visible', timeout: 15_000 });
    await page.locator('#login-user').fill(USERS[who][0]);
    await page.locator('#login-pass').fill(password);
    await page.getByTestId('login-submit').click();
  };

  /** Waits until a KPI tile shows more than `floor`. */
  const kpiAbove = (id: string, floor: number, timeout: number) =>
    page.waitForFunction(
      ([which, min]) => {
        const g = globalThis as unknown as PageGlobals;
        return Number(g.document.getElementById(which)?.textContent?.replace(/\D/g, '') || 0) > min;
      },
      [id, floor] as const,
      { timeout, polling: 500 },
    );

  /** /api/stats from inside the page: the same session cookie the dashboard uses. */
  const statsFromPage = (query: string): Promise<{ status: number; body: StatsBody }> =>
    page.evaluate(async (q) => {
      const res = await fetch(`/api/stats?${q}`);
      return { status: res.status, body: (await res.json()) as StatsBody };
    }, query);

  it('serves the page and its assets without a login', async () => {
    // Chart.js comes from node_modules; a broken path would leave the dashboard without charts.
    for (const path of ['/', '/assets/chart.umd.js', '/assets/dashboard.js', '/assets/dashboard.css']) {
      expect((await fetch(`${running.url}${path}`)).status, path).toBe(200);
    }
  });

  it('shows the login form and rejects a wrong password', async () => {
    await page.goto(running.url);
    await page.getByTestId('login-form').waitFor({ state: 'visible', timeout: 15_000 });
    await expect(page.title()).resolves.toContain('CrowdLens');
    await login('operator', 'not-the-password');
    await page
      .locator('#login-error')
      .filter({ hasText: /wrong password/i })
      .waitFor({ timeout: 10_000 });
    await expect(page.getByTestId('login-form').isVisible()).resolves.toBe(true);
  });

  it('logs in as operator and watches the counts rise while the video plays', async () => {
    await login('operator');
    await page.getByTestId('login-form').waitFor({ state: 'hidden', timeout: 10_000 });
    await page.getByTestId('user').filter({ hasText: 'olga · operator' }).waitFor({ timeout: 10_000 });
    await page.getByTestId('connection').filter({ hasText: 'live' }).waitFor({ timeout: 15_000 });
    await page
      .locator('[data-camera="entrance"] [data-testid=camera-state]')
      .filter({ hasText: 'streaming' })
      .waitFor({ timeout: 60_000 });

    const read = async () => ({
      visitors: kpiNumber(await page.getByTestId('kpi-visitors').textContent()),
      faces: kpiNumber(await page.getByTestId('kpi-faces').textContent()),
    });
    // First moment: people have been counted (detector and classifier warm up, first tracks close).
    await kpiAbove('kpi-faces', 0, 60_000);
    const first = await read();
    // Second moment: more people, pushed over SSE without a reload.
    await page.waitForFunction(
      (before) => {
        const g = globalThis as unknown as PageGlobals;
        const n = (id: string) => Number(g.document.getElementById(id)?.textContent?.replace(/\D/g, '') || 0);
        return n('kpi-faces') > before.faces && n('kpi-visitors') > before.visitors;
      },
      first,
      { timeout: 45_000, polling: 500 },
    );
    const second = await read();
    expect(second.faces).toBeGreaterThan(first.faces);
    expect(second.visitors).toBeGreaterThan(first.visitors);
    expect(second.visitors).toBeGreaterThan(0);

    // The tile carries live numbers too.
    const tile = page.locator('[data-camera="entrance"]');
    await expect(tile.getByTestId('camera-state').textContent()).resolves.toBe('streaming');
    await expect(tile.textContent()).resolves.toContain('demo-store');

    // The store filter lists the cameras' groups.
    await expect(page.getByTestId('group-filter').locator('option').allTextContents()).resolves.toEqual(
      expect.arrayContaining(['demo-store', 'demo-outlet']),
    );

    // The Stores panel compares both stores, live: wait until each has counted people (not suppressed).
    await page.waitForFunction(
      () => {
        const g = globalThis as unknown as PageGlobals;
        const rows = [...g.document.querySelectorAll('[data-testid=stores-table] tbody tr')];
        return rows.length === 2 && rows.every((r) => r.dataset.suppressed === 'false');
      },
      null,
      { timeout: 60_000, polling: 500 },
    );

    // The README's picture: a product view with real numbers in it. Two minutes of the video's
    // people make the chart read as a timeline rather than a single bar (costs up to a minute).
    await page.waitForFunction(
      () => {
        const chart = (globalThis as unknown as PageGlobals).Chart.getChart('timeline');
        if (!chart) return false;
        const people = chart.data.labels.map((_, i) =>
          chart.data.datasets.slice(0, 3).reduce((n, d) => n + (d.data[i] ?? 0), 0),
        );
        return people.filter((n) => n > 0).length >= 2;
      },
      null,
      { timeout: 70_000, polling: 1000 },
    );
    await page.screenshot({ path: join(repoRoot(), 'docs/dashboard.png'), fullPage: true });
    expect(readFileSync(join(repoRoot(), 'docs/dashboard.png')).subarray(1, 4).toString()).toBe('PNG');
  }, 200_000);

  it('shows coverage beside the gender shares: the share of visitors whose gender is decided', async () => {
    // One read of every tile, so the numbers come from the same render.
    const tiles = await page.evaluate(() => {
      const g = globalThis as unknown as PageGlobals;
      const text = (id: string) => g.document.getElementById(id)?.textContent ?? '';
      return {
        visitors: text('kpi-visitors'),
        female: text('kpi-female'),
        male: text('kpi-male'),
        coverage: text('kpi-coverage'),
        note: text('kpi-coverage-note'),
        femaleShare: text('kpi-female-share'),
      };
    });
    const visitors = kpiNumber(tiles.visitors);
    expect(visitors).toBeGreaterThan(0);
    const decided = kpiNumber(tiles.female) + kpiNumber(tiles.male);
    const coverage = `${Math.round((decided / visitors) * 100)}%`;
    expect(tiles.coverage).toBe(coverage);
    expect(tiles.note).toBe(`shares are of the ${coverage} decided`);
    if (decided > 0) expect(tiles.femaleShare).toMatch(new RegExp(`^\\d+% of the ${coverage} decided$`));
  });

  it('changes the range and the chart follows, marking suppressed buckets', async () => {
    // One lone visitor 2½ hours ago (after the screenshot, so the README shows only the video's people):
    // alone in their minute and hour, below k = 2, so the dashboard must show a suppressed bucket, not a count.
    const bus = running.app.get<MessageBus>(MESSAGE_BUS);
    const lone = Date.now() - 2.5 * 3_600_000;
    for (const [i, ts] of [lone, lone + 2000].entries()) {
      await bus.publish(GENDER_PREDICTIONS_TOPIC, {
        schemaVersion: 1,
        predictionId: `browser-test-lone-${i}`,
        cameraId: 'entrance',
        trackId: 'browser-test-lone',
        frameTs: ts,
        probMale: 0.9,
        label: 'male',
        quality: 0.9,
        model: { name: 'browser-test', version: '1' },
        inferenceMs: 1,
      });
    }
    // Published is not yet applied: wait until the API shows the lone visitor's (suppressed) bucket.
    const loneMinute = `from=${lone - 60_000}&to=${lone + 60_000}&bucket=minute`;
    await until('the lone visitor to be applied', 15_000, async () => {
      const { body } = await statsFromPage(loneMinute);
      return body.series.length === 1 && body.series[0]!.suppressed;
    });
    const labels = () =>
      page.evaluate(() => {
        const chart = (globalThis as unknown as PageGlobals).Chart.getChart('timeline');
        return chart ? chart.data.labels : [];
      });
    const suppressedMarkers = () =>
      page.evaluate(() => {
        const chart = (globalThis as unknown as PageGlobals).Chart.getChart('timeline');
        return chart ? chart.data.datasets[3]!.data.filter((v) => v !== null).length : -1;
      });
    const live = await labels();
    expect(live.length).toBe(60); // the last hour, by minute
    await expect(page.locator('#range-label').textContent()).resolves.toContain('per minute');

    await page.getByTestId('range').selectOption('24h');
    await page.locator('#range-label').filter({ hasText: 'per hour' }).waitFor({ timeout: 10_000 });
    const day = await labels();
    expect(day.length).toBeGreaterThanOrEqual(24);
    expect(day.length).toBeLessThanOrEqual(25);
    expect(day).not.toEqual(live.slice(0, day.length));
    await page
      .getByTestId('suppressed-note')
      .filter({ hasText: /1 bucket suppressed: fewer than 2 people/ })
      .waitFor({ timeout: 10_000 });
    await expect(suppressedMarkers()).resolves.toBe(1);
    // The counts survive the switch: today's visitors are inside the last 24 h.
    expect(kpiNumber(await page.getByTestId('kpi-visitors').textContent())).toBeGreaterThan(0);
    await expect(page.getByTestId('csv').getAttribute('href')).resolves.toContain('bucket=hour');

    // A year by day: the counts kept past retention. Today's visitors are in it too.
    await page.getByTestId('range').selectOption('365d');
    await page.locator('#range-label').filter({ hasText: 'per day' }).waitFor({ timeout: 10_000 });
    const year = await labels();
    expect(year.length).toBeGreaterThanOrEqual(365);
    expect(year.length).toBeLessThanOrEqual(366);
    expect(kpiNumber(await page.getByTestId('kpi-visitors').textContent())).toBeGreaterThan(0);
    await expect(page.getByTestId('csv').getAttribute('href')).resolves.toContain('bucket=day');
    await page.getByTestId('range').selectOption('24h');
    await page.locator('#range-label').filter({ hasText: 'per hour' }).waitFor({ timeout: 10_000 });
  });

  it('downloads the CSV, whose rows match /api/stats for the same range', async () => {
    await page.getByTestId('range').selectOption('6h');
    await page.locator('#range-label').filter({ hasText: 'per minute' }).waitFor({ timeout: 10_000 });
    const href = (await page.getByTestId('csv').getAttribute('href')) ?? '';
    expect(href).toMatch(/^\/api\/stats\/csv\?.*bucket=minute/);
    const query = href.split('?')[1]!;

    // Live data keeps arriving, so the download is bracketed by two API reads: every count in the
    // file must lie between them, and with no arrivals in between they must match exactly.
    const before = await statsFromPage(query);
    const [download] = await Promise.all([
      page.waitForEvent('download', { timeout: 15_000 }),
      page.getByTestId('csv').click(),
    ]);
    const after = await statsFromPage(query);
    expect(before.status).toBe(200);
    expect(after.status).toBe(200);
    expect(download.suggestedFilename()).toBe('crowdlens-stats.csv');
    expect(download.url()).toContain(query);
    const file = await download.path();
    const { header, rows } = parseCsv(readFileSync(file, 'utf8'));

    expect(header).toBe(CSV_HEADER);
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r.group === GROUP_OF[r.cameraId])).toBe(true);
    const key = (r: { cameraId: string; bucketStart: number }) => `${r.cameraId}@${r.bucketStart}`;
    const beforeByKey = new Map(before.body.series.map((r) => [key(r), r]));
    const afterByKey = new Map(after.body.series.map((r) => [key(r), r]));
    const inCsv = new Set(rows.map(key));
    for (const r of before.body.series) expect(inCsv.has(key(r)), `${key(r)} missing from the CSV`).toBe(true);
    // The back-dated lone visitor is in the file as a suppressed row, without counts.
    expect(rows.filter((r) => r.suppressed).length).toBeGreaterThanOrEqual(1);
    for (const r of rows) {
      const a = afterByKey.get(key(r));
      expect(a, `${key(r)} missing from /api/stats`).toBeDefined();
      if (r.suppressed) {
        expect([r.faces, r.visitors, r.female, r.male, r.unknown, r.coverage]).toEqual([
          null,
          null,
          null,
          null,
          null,
          null,
        ]);
        continue;
      }
      // An unsuppressed row is internally consistent...
      expect(r.female! + r.male! + r.unknown!).toBe(r.visitors);
      expect(r.coverage).toBeCloseTo((r.female! + r.male!) / r.visitors!, 4);
      // (Faces do not bound visitors: a person whose face was never classified is a visitor too.)
      // ...and lies between the two API reads (counts only grow while the video plays).
      expect(a!.suppressed).toBe(false);
      expect(r.faces!).toBeLessThanOrEqual(a!.faces!);
      expect(r.visitors!).toBeLessThanOrEqual(a!.visitors!);
      const b = beforeByKey.get(key(r));
      if (b && !b.suppressed) {
        expect(r.faces!).toBeGreaterThanOrEqual(b.faces!);
        expect(r.visitors!).toBeGreaterThanOrEqual(b.visitors!);
      }
    }
    if (JSON.stringify(before.body.series) === JSON.stringify(after.body.series)) {
      const asApi = rows.map((r): SeriesRow => {
        const { group: _group, ...row } = r;
        return row;
      });
      // The file writes coverage to four decimals.
      const rounded = (c: number | null) => (c === null ? null : Number(c.toFixed(4)));
      expect(asApi).toEqual(after.body.series.map((r) => ({ ...r, coverage: rounded(r.coverage) })));
    }
    // The page's Visitors KPI for this range (rendered a moment earlier) sums the unsuppressed rows.
    const visible = rows.filter((r) => !r.suppressed).reduce((n, r) => n + r.visitors!, 0);
    const kpi = kpiNumber(await page.getByTestId('kpi-visitors').textContent());
    expect(kpi).toBeGreaterThan(0);
    expect(kpi).toBeLessThanOrEqual(visible);
  });

  it('compares the stores side by side, one row per store with the numbers of /api/stats/groups', async () => {
    // History from a camera since taken out of the config: it has no group, so it is compared under
    // "(no group)", and one lone visitor is below k = 2, so that row must be suppressed.
    const bus = running.app.get<MessageBus>(MESSAGE_BUS);
    const lone = Date.now() - 2 * 3_600_000;
    for (const [i, ts] of [lone, lone + 4000].entries()) {
      await bus.publish(GENDER_PREDICTIONS_TOPIC, {
        schemaVersion: 1,
        predictionId: `browser-test-removed-${i}`,
        cameraId: 'removed-cam',
        trackId: 'browser-test-removed',
        frameTs: ts,
        probMale: 0.1,
        label: 'female',
        quality: 0.9,
        model: { name: 'browser-test', version: '1' },
        inferenceMs: 1,
      });
    }
    const storesFromPage = (query: string): Promise<StoresBody> =>
      page.evaluate(async (q) => (await (await fetch(`/api/stats/groups?${q}`)).json()) as StoresBody, query);
    await until('the removed camera to show up in the comparison', 15_000, async () => {
      const to = Math.ceil((Date.now() + 1) / 60_000) * 60_000;
      const body = await storesFromPage(`from=${to - 6 * 3_600_000}&to=${to}&bucket=minute`);
      return body.groups.some((g) => g.label === '(no group)');
    });

    // Every answer the page gets from /api/stats/groups, so the table can be held against the
    // very numbers it rendered (the video keeps adding people between any two reads).
    const answers: { url: string; body: StoresBody }[] = [];
    // A body still in flight when the page or browser closes rejects; that is not an answer, and
    // left unhandled it would take the whole test worker down with it.
    const onResponse = (res: PageResponse): void => {
      if (!/\/api\/stats\/groups\?/.test(res.url()) || !res.ok()) return;
      res.json().then(
        (body: StoresBody) => answers.push({ url: res.url(), body }),
        () => undefined,
      );
    };
    page.on('response', onResponse);
    onTestFinished(() => void page.off('response', onResponse));
    // Back and forth, so the page asks again for the last 6 hours.
    await page.getByTestId('range').selectOption('live');
    await page.getByTestId('range').selectOption('6h');
    await until('the page to fetch the store comparison', 15_000, async () =>
      answers.some((a) => a.url.includes('bucket=minute') && a.body.groups.length === 3),
    );
    const href = (await page.getByTestId('stores-csv').getAttribute('href')) ?? '';
    expect(href).toMatch(/^\/api\/stats\/groups\/csv\?from=\d+&to=\d+&bucket=minute$/);

    let mismatches: string[] = ['nothing read yet'];
    let last: StoresBody | undefined;
    await until('the Stores table to show the last API answer', 15_000, async () => {
      last = answers.at(-1)!.body;
      mismatches = storeMismatches(await page.evaluate(readStoresTable), last);
      return mismatches.length === 0;
    }).catch((err: unknown) => {
      throw new Error(`${String(err)}: ${mismatches.join('; ')}`);
    });
    // One row per store: the two configured groups, and the removed camera's history, suppressed.
    expect(last!.groups.map((g) => g.label)).toEqual(['demo-outlet', 'demo-store', '(no group)']);
    expect(last!.groups.find((g) => g.label === '(no group)')).toMatchObject({ group: null, suppressed: true });
    expect(last!.groups.filter((g) => g.group !== null).every((g) => !g.suppressed && g.visitors! > 0)).toBe(true);

    // Suppressed rows carry the dashboard's marker, in the table, the note and on the chart's axis.
    const shown = await page.evaluate(readStoresTable);
    expect(shown.at(-1)).toMatchObject({ store: '(no group)', suppressed: 'true' });
    expect(shown.at(-1)!.cells.suppressed).toBe('◆ suppressed: fewer than 2 people');
    expect(shown.at(-1)!.cells.visitors).toBeUndefined();
    await expect(page.getByTestId('stores-note').textContent()).resolves.toContain(
      '◆ 1 store suppressed: fewer than 2 people',
    );
    const chart = await page.evaluate(() => {
      const c = (globalThis as unknown as PageGlobals).Chart.getChart('stores-chart');
      return c ? { labels: c.data.labels, data: c.data.datasets.map((d) => d.data) } : null;
    });
    expect(chart!.labels).toEqual(shown.map((r) => r.store));
    expect(chart!.data[3]).toEqual([null, null, 0]);
    expect(chart!.data[0]![2]).toBeNull();
    // The bars are the table's counts.
    for (const [i, row] of shown.slice(0, 2).entries()) {
      expect(chart!.data[0]![i]).toBe(last!.groups.find((g) => g.label === row.store)!.female);
    }

    // Sorting: by name on a click on Store, back to visitors (largest first) on Visitors; suppressed stays last.
    await page.locator('.stores-table th[data-sort=label]').click();
    await expect(page.evaluate(readStoresTable).then((r) => r.map((x) => x.store))).resolves.toEqual([
      'demo-outlet',
      'demo-store',
      '(no group)',
    ]);
    await page.locator('.stores-table th[data-sort=visitors]').click();
    const byVisitors = (await page.evaluate(readStoresTable)).slice(0, 2).map((r) => kpiNumber(r.cells.visitors!));
    expect(byVisitors[0]).toBeGreaterThanOrEqual(byVisitors[1]!);
    await expect(page.locator('.stores-table th[data-sort=visitors]').getAttribute('aria-sort')).resolves.toBe(
      'descending',
    );
  });

  it('logs out, and a viewer sees counts but no camera health', async () => {
    await page.getByTestId('logout').click();
    await page.getByTestId('login-form').waitFor({ state: 'visible', timeout: 10_000 });
    const afterLogout = await page.evaluate(async () => (await fetch('/api/stats')).status);
    expect(afterLogout).toBe(401);
    // Nothing of the operator's session stays on screen behind the form.
    await expect(page.getByTestId('kpi-visitors').textContent()).resolves.toBe('–');
    await expect(page.getByTestId('kpi-coverage').textContent()).resolves.toBe('–');
    await expect(page.locator('[data-camera]').count()).resolves.toBe(0);
    await expect(page.locator('[data-testid=stores-table] tbody tr').count()).resolves.toBe(0);
    await expect(page.getByTestId('user').textContent()).resolves.toBe('');

    await login('viewer');
    await page.getByTestId('login-form').waitFor({ state: 'hidden', timeout: 10_000 });
    await page.getByTestId('user').filter({ hasText: 'vic · viewer' }).waitFor({ timeout: 10_000 });
    await page.getByTestId('connection').filter({ hasText: 'live' }).waitFor({ timeout: 15_000 });
    await page.locator('#cameras-note').filter({ hasText: 'needs the operator role' }).waitFor({ timeout: 10_000 });
    await expect(page.locator('[data-camera]').count()).resolves.toBe(0);
    await expect(page.getByTestId('camera-state').count()).resolves.toBe(0);
    // Counts are for viewers too.
    await kpiAbove('kpi-visitors', 0, 15_000);
    // So is the store comparison.
    await page.locator('[data-testid=stores-table] tbody tr[data-store="demo-store"]').waitFor({ timeout: 15_000 });
    await expect(page.evaluate(async () => (await fetch('/api/stats/groups')).status)).resolves.toBe(200);
    const cameras = await page.evaluate(async () => (await fetch('/api/cameras')).status);
    expect(cameras).toBe(403);
    // The footer names the active model and, since the bundled head has no model card, says it is unmeasured.
    await page
      .getByTestId('model')
      .filter({ hasText: 'Model: faceapi-age-gender 1.7.15' })
      .waitFor({ timeout: 10_000 });
    await expect(page.getByTestId('model').textContent()).resolves.toMatch(
      /· unmeasured: this model carries no model card/,
    );
    expect(pageErrors).toEqual([]);
  });

  it('says so instead of comparing when there is only one store', async () => {
    // A second, analytics-only process (no video) with one store and auth off.
    const soloDir = mkdtempSync(join(tmpdir(), 'crowdlens-solo-'));
    const solo = await startCrowdLens(
      parseConfig({
        role: 'analytics',
        dataDir: soloDir,
        logLevel: 'warn',
        http: { port: 0, host: '127.0.0.1' },
        cameras: [{ id: 'only', url: 'rtsp://10.9.9.9/only', group: 'only-store' }],
      }),
      createLogger('warn'),
    );
    const other = await context.newPage();
    try {
      await other.goto(solo.url);
      await other
        .getByTestId('stores-note')
        .filter({ hasText: 'Only one store (only-store)' })
        .waitFor({ timeout: 15_000 });
      await expect(other.getByTestId('stores-table').isVisible()).resolves.toBe(false);
      // An analytics-only process does not run the model: the footer says where its card is.
      await other
        .getByTestId('model')
        .filter({ hasText: 'served by the inference process' })
        .waitFor({ timeout: 10_000 });
    } finally {
      await other.close();
      await solo.close();
      rmSync(soloDir, { recursive: true, force: true });
    }
  });
});
