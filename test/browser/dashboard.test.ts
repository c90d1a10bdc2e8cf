/**
 * The dashboard in a real browser (Debian's Chromium driven by playwright-core)
 * against a whole embedded CrowdLens reading the looping sample video: login
 * and its errors, live counts rising, the range picker, the CSV download
 * checked against the API, and what a viewer may not see. It also saves the
 * README's screenshot (docs/dashboard.png).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { parseConfig } from '@crowdlens/config';
import { MESSAGE_BUS, type MessageBus } from '@crowdlens/bus';
import { GENDER_PREDICTIONS_TOPIC } from '@crowdlens/contracts';
import { createLogger, hashPassword, repoRoot } from '@crowdlens/common';
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
const CSV_HEADER = 'bucket_start,camera_id,group,suppressed,faces,visitors,female,male,unknown';

interface SeriesRow {
  cameraId: string;
  bucketStart: number;
  suppressed: boolean;
  faces: number | null;
  visitors: number | null;
  female: number | null;
  male: number | null;
  unknown: number | null;
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
}

/** What the page functions below touch in the browser (the test compiles without the DOM lib). */
interface TimelineChart {
  data: { labels: string[]; datasets: { label: string; data: (number | null)[] }[] };
}
interface PageGlobals {
  document: { getElementById(id: string): { textContent: string | null } | null };
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
    if (cells.length !== 9) throw new Error(`expected 9 cells: ${line}`);
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
          group: 'demo-store',
          fps: 3,
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

    // The store filter lists the camera's group.
    await expect(page.getByTestId('group-filter').locator('option').allTextContents()).resolves.toContain('demo-store');

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
    expect(rows.every((r) => r.cameraId === 'entrance' && r.group === 'demo-store')).toBe(true);
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
        expect([r.faces, r.visitors, r.female, r.male, r.unknown]).toEqual([null, null, null, null, null]);
        continue;
      }
      // An unsuppressed row is internally consistent...
      expect(r.female! + r.male! + r.unknown!).toBe(r.visitors);
      expect(r.faces!).toBeGreaterThanOrEqual(r.visitors!);
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
      expect(asApi).toEqual(after.body.series);
    }
    // The page's Visitors KPI for this range (rendered a moment earlier) sums the unsuppressed rows.
    const visible = rows.filter((r) => !r.suppressed).reduce((n, r) => n + r.visitors!, 0);
    const kpi = kpiNumber(await page.getByTestId('kpi-visitors').textContent());
    expect(kpi).toBeGreaterThan(0);
    expect(kpi).toBeLessThanOrEqual(visible);
  });

  it('logs out, and a viewer sees counts but no camera health', async () => {
    await page.getByTestId('logout').click();
    await page.getByTestId('login-form').waitFor({ state: 'visible', timeout: 10_000 });
    const afterLogout = await page.evaluate(async () => (await fetch('/api/stats')).status);
    expect(afterLogout).toBe(401);
    // Nothing of the operator's session stays on screen behind the form.
    await expect(page.getByTestId('kpi-visitors').textContent()).resolves.toBe('–');
    await expect(page.locator('[data-camera]').count()).resolves.toBe(0);
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
    const cameras = await page.evaluate(async () => (await fetch('/api/cameras')).status);
    expect(cameras).toBe(403);
    expect(pageErrors).toEqual([]);
  });
});
