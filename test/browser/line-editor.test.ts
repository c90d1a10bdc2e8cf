/**
 * The line and zone editor in a real browser (Debian's Chromium driven by
 * playwright-core) against a whole embedded CrowdLens playing OpenCV's
 * vtest.avi (people walking along a footpath) in a loop:
 * - an admin sees the live view, opens the editor on it, draws a zone and
 *   deletes it, draws a line across the walkway by clicking its two ends on
 *   the picture, names and saves it, sees a refused duplicate name explained,
 *   and sees the new line's in and out counts rise in the dashboard — no
 *   restart — with the line stats route counting it too;
 * - an operator sees the live view but no editor, and may not change lines;
 * - a viewer sees neither, and the snapshot route answers 403.
 * It saves docs/live-view.png and docs/lines.png.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { parseConfig } from '@crowdlens/config';
import { hashPassword } from '@crowdlens/common';
import { createLogger, repoRoot } from '@crowdlens/runtime';
import { startCrowdLens, type RunningApp } from '../../apps/embedded/src/bootstrap';
import { vtestPath } from '../../bench/counting/footage';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
];
const USERS = {
  admin: ['ada', 'ada-pass-1'],
  operator: ['olga', 'olga-pass-1'],
  viewer: ['vic', 'vic-pass-1'],
} as const;
/**
 * The hand-counted line of test/fixtures/counting/vtest-line-crossings.json
 * (x = 0.3 of the picture, drawn top to bottom): 12 people cross it right to
 * left (in) and 8 left to right (out) in each 79.5 s pass of the clip.
 */
const DOOR = { a: [0.3, 0.02], b: [0.3, 0.98] } as const;

const BENCH = [
  [0.6, 0.1],
  [0.9, 0.1],
  [0.9, 0.4],
] as const;

/** Where the clicks landed, in normalised coordinates: the picture's pixels round them, by well under 1 %. */
function expectPoints(got: readonly (readonly number[])[] | undefined, want: readonly (readonly number[])[]): void {
  expect(got).toHaveLength(want.length);
  want.forEach(([x, y], i) => {
    expect(Math.abs((got?.[i]?.[0] ?? -1) - x!), `point ${i} x`).toBeLessThan(0.005);
    expect(Math.abs((got?.[i]?.[1] ?? -1) - y!), `point ${i} y`).toBeLessThan(0.005);
  });
}

interface Counts {
  people: number | null;
}
interface LinesBody {
  lines: Array<{ cameraId: string; name: string; in: Counts; out: Counts }>;
}
interface GeometryBody {
  lines: Array<{ name: string; points: number[][] }>;
  zones: Array<{ name: string; points: number[][] }>;
}
/** What the page functions below touch in the browser (the test compiles without the DOM lib). */
interface PageGlobals {
  document: {
    querySelector(selector: string): { textContent: string | null; naturalWidth?: number } | null;
  };
}

describe('line and zone editor in Chromium', () => {
  let running: RunningApp;
  let browser: Browser;
  let page: Page;
  let dataDir: string;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: run scripts/setup-system.sh`);
    dataDir = mkdtempSync(join(tmpdir(), 'crowdlens-editor-'));
    const config = parseConfig({
      role: 'embedded',
      dataDir,
      logLevel: 'warn',
      http: { port: 0, host: '127.0.0.1' },
      // Real time and looped, as a camera: people keep crossing while the test draws and waits.
      cameras: [{ id: 'footpath', name: 'Footpath', url: vtestPath(), fps: 5, loop: true, realtime: true }],
      // k = 1: the first crossing of a new line shows at once (suppression is tested elsewhere).
      analytics: { kAnonymity: 1, liveIntervalMs: 1000 },
      auth: {
        users: (Object.keys(USERS) as (keyof typeof USERS)[]).map((role) => ({
          username: USERS[role][0],
          role,
          passwordHash: hashPassword(USERS[role][1]),
        })),
      },
      rateLimit: { perSecond: 200, burst: 400 },
    });
    [running, browser] = await Promise.all([
      startCrowdLens(config, createLogger('warn')),
      chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS }),
    ]);
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
    page.on('pageerror', (err) => void pageErrors.push(String(err)));
    // 401/403s are expected (logged out, the viewer's refused snapshot); 400 is the refused duplicate name.
    page.on('console', (msg) => {
      if (msg.type() === 'error' && !/Failed to load resource.*(400|401|403|404)/.test(msg.text()))
        pageErrors.push(msg.text());
    });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await running?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const login = async (who: keyof typeof USERS): Promise<void> => {
    await page.getByTestId('login-form').waitFor({ state: 'visible', timeout: 15_000 });
    await page.locator('#login-user').fill(USERS[who][0]);
    await page.locator('#login-pass').fill(USERS[who][1]);
    await page.getByTestId('login-submit').click();
    await page.getByTestId('login-form').waitFor({ state: 'hidden', timeout: 10_000 });
    await page
      .getByTestId('user')
      .filter({ hasText: `${USERS[who][0]} · ${who}` })
      .waitFor({ timeout: 10_000 });
    await page.getByTestId('connection').filter({ hasText: 'live' }).waitFor({ timeout: 15_000 });
  };
  const logout = async (): Promise<void> => {
    await page.getByTestId('logout').click();
    await page.getByTestId('login-form').waitFor({ state: 'visible', timeout: 10_000 });
  };

  /** Clicks the editor's picture at a point in normalised coordinates (scrolled into view first). */
  const clickAt = async ([x, y]: readonly [number, number]): Promise<void> => {
    const frame = page.getByTestId('editor-frame');
    const box = await frame.boundingBox();
    if (!box) throw new Error('the editor picture is not on screen');
    await frame.click({ position: { x: x * box.width, y: y * box.height } });
  };

  /** Waits until the picture has arrived (the first frames come once the detector is warm). */
  const frameLoaded = (selector: string, timeout: number) =>
    page.waitForFunction(
      (sel) => ((globalThis as unknown as PageGlobals).document.querySelector(sel)?.naturalWidth ?? 0) > 0,
      selector,
      { timeout, polling: 500 },
    );

  const geometryFromPage = (): Promise<GeometryBody> =>
    page.evaluate(async () => (await (await fetch('/api/admin/cameras/footpath/geometry')).json()) as GeometryBody);

  it('lets an admin draw and delete a zone, then draw, name and save a line on the live view', async () => {
    await page.goto(running.url);
    await login('admin');
    await page.getByTestId('live-view').waitFor({ state: 'visible', timeout: 60_000 });
    await frameLoaded('[data-live-camera="footpath"] img', 120_000);
    await page.locator('[data-live-camera="footpath"]').getByTestId('edit-geometry').click();
    await page.getByTestId('geometry-editor').waitFor({ state: 'visible' });
    await frameLoaded('[data-testid=editor-frame]', 30_000);
    await page.getByTestId('editor-list').filter({ hasText: 'No lines or zones' }).waitFor();

    // A zone: three corners, then a click on the first corner closes it.
    await page.getByTestId('editor-new-zone').click();
    for (const p of BENCH) await clickAt(p);
    await page.getByTestId('editor-close-zone').waitFor({ state: 'visible' });
    await clickAt([0.601, 0.1]);
    await page.getByTestId('editor-name').fill('bench');
    await page.getByTestId('editor-save').click();
    await page.locator('[data-testid=editor-list] li[data-geometry="bench"][data-kind="zone"]').waitFor();
    const zone = (await geometryFromPage()).zones;
    expect(zone.map((z) => z.name)).toEqual(['bench']);
    expectPoints(zone[0]?.points, BENCH);
    // …and deleted again.
    await page.locator('li[data-geometry="bench"]').getByTestId('editor-delete').click();
    await page.locator('li[data-geometry="bench"]').waitFor({ state: 'detached' });
    expect((await geometryFromPage()).zones).toEqual([]);

    // The line: two clicks, a name, save.
    await page.getByTestId('editor-new-line').click();
    await clickAt(DOOR.a);
    await clickAt(DOOR.b);
    await page.getByTestId('editor-name').fill('door');
    await page.getByTestId('editor-save').click();
    await page.locator('[data-testid=editor-list] li[data-geometry="door"][data-kind="line"]').waitFor();
    const saved = await geometryFromPage();
    expect(saved.lines.map((l) => l.name)).toEqual(['door']);
    expectPoints(saved.lines[0]?.points, [DOOR.a, DOOR.b]);
    // Saved where ingest keeps it, for the next start.
    const file = JSON.parse(readFileSync(join(dataDir, 'geometry.json'), 'utf8')) as {
      cameras: Record<string, GeometryBody>;
    };
    expect(file.cameras.footpath?.lines.map((l) => l.name)).toEqual(['door']);

    // The server's reason for refusing a shape is shown, and nothing changes.
    await page.getByTestId('editor-new-line').click();
    await clickAt([0.5, 0.2]);
    await clickAt([0.7, 0.2]);
    await page.getByTestId('editor-name').fill('door');
    await page.getByTestId('editor-save').click();
    await page
      .getByTestId('editor-error')
      .filter({ hasText: /Not saved: lines\.1\.name: duplicate name "door"/ })
      .waitFor();
    expect((await geometryFromPage()).lines).toHaveLength(1);
    await page.locator('#editor-cancel').click();
    await page.getByTestId('editor-form').waitFor({ state: 'hidden' });
    await expect(page.getByTestId('editor-error').textContent()).resolves.toBe('');
  }, 300_000);

  it('shows the new line’s in and out counts rising in the dashboard, without a restart', async () => {
    const read = async () => {
      const row = page.locator('[data-testid=lines-zones] tr[data-line="door"]');
      if ((await row.count()) === 0) return { in: 0, out: 0 };
      const n = async (id: string) => Number(((await row.getByTestId(id).textContent()) ?? '').replace(/\D/g, '') || 0);
      return { in: await n('line-in'), out: await n('line-out') };
    };
    // People cross x = 0.3 both ways in every pass of the clip; on a loaded machine it can take a pass or two.
    const deadline = Date.now() + 420_000;
    let first: { in: number; out: number } | null = null;
    for (;;) {
      const now = await read();
      if (!first && now.in + now.out > 0) first = now;
      if (first && now.in > 0 && now.out > 0 && now.in + now.out > first.in + first.out) break;
      if (Date.now() > deadline)
        throw new Error(`counts did not rise: first ${JSON.stringify(first)}, now ${JSON.stringify(now)}`);
      await page.waitForTimeout(2000);
    }
    const shown = await read();
    // The stats route counts the same line (read after the page: it can only have grown since).
    const api = await page.evaluate(async () => {
      const to = Date.now() + 60_000;
      const res = await fetch(`/api/stats/lines?camera=footpath&bucket=hour&from=${to - 3_600_000}&to=${to}`);
      return (await res.json()) as LinesBody;
    });
    const door = api.lines.find((l) => l.name === 'door');
    expect(door?.cameraId).toBe('footpath');
    expect(door?.in.people ?? 0).toBeGreaterThanOrEqual(shown.in);
    expect(door?.out.people ?? 0).toBeGreaterThanOrEqual(shown.out);
    // eslint-disable-next-line no-console -- the measured counts are this test's report
    console.info(
      `line drawn in the browser: dashboard in ${shown.in} / out ${shown.out}; API in ${door?.in.people} / out ${door?.out.people}`,
    );

    // The pictures for the README and docs: the live view with the line drawn by the server (its tick
    // on the "in" side), and the editor beside the counts.
    await frameLoaded('[data-live-camera="footpath"] img', 10_000);
    await page.locator('[data-live-camera="footpath"]').screenshot({ path: join(repoRoot(), 'docs/live-view.png') });
    // Bounding boxes are relative to the viewport, a full-page clip to the page: make them the same.
    await page.evaluate('window.scrollTo(0, 0)');
    const [table, editor] = await Promise.all([
      page.getByTestId('lines-zones').boundingBox(),
      page.getByTestId('geometry-editor').boundingBox(),
    ]);
    if (!table || !editor) throw new Error('the counts table or the editor is not on screen');
    await page.screenshot({
      path: join(repoRoot(), 'docs/lines.png'),
      fullPage: true,
      clip: {
        x: Math.min(table.x, editor.x),
        y: Math.min(table.y, editor.y),
        width: Math.max(table.x + table.width, editor.x + editor.width) - Math.min(table.x, editor.x),
        height: Math.max(table.y + table.height, editor.y + editor.height) - Math.min(table.y, editor.y),
      },
    });
    for (const png of ['docs/live-view.png', 'docs/lines.png'])
      expect(readFileSync(join(repoRoot(), png)).subarray(1, 4).toString()).toBe('PNG');
  }, 480_000);

  it('gives an operator the live view but no editor, and refuses their change of lines', async () => {
    await logout();
    await login('operator');
    await page.getByTestId('live-view').waitFor({ state: 'visible', timeout: 15_000 });
    await frameLoaded('[data-live-camera="footpath"] img', 30_000);
    await expect(page.getByTestId('edit-geometry').count()).resolves.toBe(0);
    await expect(page.getByTestId('geometry-editor').isVisible()).resolves.toBe(false);
    const put = await page.evaluate(
      async () =>
        (
          await fetch('/api/admin/cameras/footpath/geometry', {
            method: 'PUT',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ lines: [], zones: [] }),
          })
        ).status,
    );
    expect(put).toBe(403);
    expect((await geometryFromPage()).lines.map((l) => l.name)).toEqual(['door']);
  });

  it('gives a viewer neither the live view nor the editor, and the snapshot route answers 403', async () => {
    await logout();
    await login('viewer');
    // The counts are for viewers too: the line's row is there once the table refreshed.
    await page.locator('[data-testid=lines-zones] tr[data-line="door"]').waitFor({ timeout: 20_000 });
    await expect(page.getByTestId('live-view').isVisible()).resolves.toBe(false);
    await expect(page.locator('[data-live-camera]').count()).resolves.toBe(0);
    await expect(page.getByTestId('edit-geometry').count()).resolves.toBe(0);
    await expect(page.getByTestId('geometry-editor').isVisible()).resolves.toBe(false);
    const status = await page.evaluate(async () => ({
      snapshot: (await fetch('/api/cameras/footpath/snapshot.jpg')).status,
      geometry: (await fetch('/api/admin/cameras/footpath/geometry')).status,
    }));
    expect(status).toEqual({ snapshot: 403, geometry: 403 });
    expect(pageErrors).toEqual([]);
  });
});
