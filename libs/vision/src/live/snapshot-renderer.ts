import sharp, { type OverlayOptions } from 'sharp';
import type { Box } from '@crowdlens/contracts';
import type { LiveFrame } from './live-frames';

export interface SnapshotOptions {
  /** Blur every detected face and the head of every detected person. */
  readonly blurFaces: boolean;
  readonly quality: number;
}

/** Share of a person box's height, from its top, blurred as the head: a face too small to detect is still there. */
const HEAD_SHARE = 0.22;
/**
 * With blurring on, the whole picture is also pixelated into cells of 1/64 of its width (10 px at
 * 640): a face the detector missed on that frame (it happens, at any size) keeps no detail either,
 * while people, their boxes, lines and zones stay plain to see.
 */
const PRIVACY_CELLS_ACROSS = 64;

/**
 * A live frame as a JPEG an operator can look at: faces blurred (by
 * default: detected faces and people's heads blurred hard, the rest of the
 * picture pixelated so a missed face is no sharper), each person's box and track id, the camera's lines (with an arrow
 * on the "in" side) and zones drawn on top. Nothing is written anywhere.
 */
export async function renderSnapshot(live: LiveFrame, opts: SnapshotOptions): Promise<Buffer> {
  const { width, height, data } = live.frame;
  const raw = { raw: { width, height, channels: 3 as const } };
  const layers: OverlayOptions[] = [];
  let base = sharp(data, raw);
  if (opts.blurFaces) {
    const across = Math.min(PRIVACY_CELLS_ACROSS, width);
    const down = Math.max(1, Math.round((height * across) / width));
    const coarse = await sharp(data, raw).resize(across, down, { fit: 'fill' }).raw().toBuffer();
    const floor = await sharp(coarse, { raw: { width: across, height: down, channels: 3 } })
      .resize(width, height, { fit: 'fill', kernel: 'nearest' })
      .raw()
      .toBuffer();
    base = sharp(floor, raw);
    const regions = [...live.faces.map((f) => grow(f, 0.25)), ...live.people.map(headOf)]
      .map((b) => clamp(b, width, height))
      .filter((b): b is Box => b !== null);
    for (const r of regions) {
      // Pixelate, then blur: no detail of the face survives, however large it was.
      const cells = Math.max(2, Math.round(Math.min(r.width, r.height) / 12));
      const small = await sharp(data, raw)
        .extract({ left: r.x, top: r.y, width: r.width, height: r.height })
        .resize(cells, cells, { fit: 'fill' })
        .raw()
        .toBuffer();
      const patch = await sharp(small, { raw: { width: cells, height: cells, channels: 3 } })
        .resize(r.width, r.height, { fit: 'fill', kernel: 'nearest' })
        .blur(Math.max(1, Math.min(r.width, r.height) / 8))
        .png()
        .toBuffer();
      layers.push({ input: patch, left: r.x, top: r.y });
    }
  }
  layers.push({ input: Buffer.from(overlaySvg(live, width, height)), left: 0, top: 0 });
  return base.composite(layers).jpeg({ quality: opts.quality, mozjpeg: false }).toBuffer();
}

/** The boxes, ids, lines and zones drawn over the picture (exported for its spec). */
export function overlaySvg(live: LiveFrame, width: number, height: number): string {
  const px = (p: readonly [number, number]) => `${(p[0] * width).toFixed(1)},${(p[1] * height).toFixed(1)}`;
  const parts: string[] = [];
  for (const z of live.geometry.zones) {
    parts.push(
      `<polygon points="${z.points.map(px).join(' ')}" fill="rgba(255,200,0,0.15)" stroke="#ffc800" stroke-width="2"/>`,
      label(z.points[0]![0] * width + 4, z.points[0]![1] * height + 14, z.name, '#ffc800'),
    );
  }
  for (const l of live.geometry.lines) {
    const [a, b] = l.points;
    const ax = a[0] * width;
    const ay = a[1] * height;
    const bx = b[0] * width;
    const by = b[1] * height;
    const mx = (ax + bx) / 2;
    const my = (ay + by) / 2;
    const len = Math.hypot(bx - ax, by - ay) || 1;
    // Towards the "in" side: A→B turned 90° clockwise on the screen.
    const nx = (-(by - ay) / len) * 18;
    const ny = ((bx - ax) / len) * 18;
    parts.push(
      `<line x1="${ax}" y1="${ay}" x2="${bx}" y2="${by}" stroke="#00e5ff" stroke-width="3"/>`,
      `<line x1="${mx}" y1="${my}" x2="${mx + nx}" y2="${my + ny}" stroke="#00e5ff" stroke-width="2"/>`,
      `<circle cx="${mx + nx}" cy="${my + ny}" r="3" fill="#00e5ff"/>`,
      label(mx + 4, my - 6, l.name, '#00e5ff'),
      // Beside the tick's end, whichever side that is: a fixed arrow would point the wrong way on half the lines.
      label(mx + nx * 1.4 - 6, my + ny * 1.4 + 4, 'in', '#00e5ff'),
    );
  }
  for (const p of live.people) {
    const { x, y, width: w, height: h } = p.box;
    parts.push(
      `<rect x="${x}" y="${y}" width="${w}" height="${h}" fill="none" stroke="#39ff14" stroke-width="2"/>`,
      label(x, Math.max(10, y - 3), p.trackId.split('-').pop() ?? p.trackId, '#39ff14'),
    );
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${parts.join('')}</svg>`;
}

function label(x: number, y: number, text: string, color: string): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" font-family="sans-serif" font-size="12" fill="${color}" stroke="black" stroke-width="0.6">${escapeXml(text)}</text>`;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function headOf(p: { readonly box: Box }): Box {
  const { x, y, width, height } = p.box;
  return grow({ x, y, width, height: height * HEAD_SHARE }, 0.1);
}

function grow(b: Box, by: number): Box {
  const dx = b.width * by;
  const dy = b.height * by;
  return { x: b.x - dx, y: b.y - dy, width: b.width + 2 * dx, height: b.height + 2 * dy };
}

/** Whole pixels inside the frame; null when nothing is left. */
function clamp(b: Box, width: number, height: number): Box | null {
  const x = Math.max(0, Math.floor(b.x));
  const y = Math.max(0, Math.floor(b.y));
  const x2 = Math.min(width, Math.ceil(b.x + b.width));
  const y2 = Math.min(height, Math.ceil(b.y + b.height));
  return x2 - x >= 2 && y2 - y >= 2 ? { x, y, width: x2 - x, height: y2 - y } : null;
}
