import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

/** One entry of a TF.js weights manifest (the format face-api ships its models in). */
const WeightEntrySchema = z.object({
  name: z.string(),
  shape: z.array(z.number().int().min(0)),
  dtype: z.enum(['float32', 'int32']),
  quantization: z.object({ dtype: z.enum(['uint8', 'uint16']), scale: z.number(), min: z.number() }).optional(),
});
const ManifestSchema = z.array(z.object({ paths: z.array(z.string()).min(1), weights: z.array(WeightEntrySchema) }));

export interface NamedWeight {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

export type WeightMap = ReadonlyMap<string, NamedWeight>;

const BYTES_PER_VALUE = { uint8: 1, uint16: 2, float32: 4, int32: 4 } as const;

/**
 * Reads `<name>-weights_manifest.json` and its shards, dequantising the way
 * TF.js does (`q * scale + min`, in float32), so a graph built from this map
 * computes what face-api computes.
 */
export function loadTfjsWeights(modelDir: string, modelName: string): WeightMap {
  const manifestPath = join(modelDir, `${modelName}-weights_manifest.json`);
  let parsed: z.infer<typeof ManifestSchema>;
  try {
    parsed = ManifestSchema.parse(JSON.parse(readFileSync(manifestPath, 'utf8')));
  } catch (err) {
    throw new Error(`cannot read TF.js weights manifest ${manifestPath}: ${(err as Error).message}`);
  }
  const out = new Map<string, NamedWeight>();
  for (const group of parsed) {
    const shards = group.paths.map((p) => readFileSync(join(modelDir, p)));
    const bytes = Buffer.concat(shards);
    let offset = 0;
    for (const entry of group.weights) {
      const count = entry.shape.reduce((a, b) => a * b, 1);
      const stored = entry.quantization?.dtype ?? entry.dtype;
      const size = count * BYTES_PER_VALUE[stored];
      if (offset + size > bytes.length) {
        throw new Error(`${manifestPath}: weight ${entry.name} runs past the end of its shards`);
      }
      const view = new DataView(bytes.buffer, bytes.byteOffset + offset, size);
      const data = new Float32Array(count);
      for (let i = 0; i < count; i += 1) {
        let v: number;
        if (stored === 'uint8') v = view.getUint8(i);
        else if (stored === 'uint16') v = view.getUint16(i * 2, true);
        else if (stored === 'int32') v = view.getInt32(i * 4, true);
        else v = view.getFloat32(i * 4, true);
        data[i] = entry.quantization ? v * entry.quantization.scale + entry.quantization.min : v;
      }
      out.set(entry.name, { shape: entry.shape, data });
      offset += size;
    }
  }
  return out;
}

export function requireWeight(map: WeightMap, name: string, rank: number): NamedWeight {
  const w = map.get(name);
  if (!w) throw new Error(`face-api weights have no tensor ${name}`);
  if (w.shape.length !== rank) throw new Error(`${name}: expected rank ${rank}, got [${w.shape.join(', ')}]`);
  return w;
}
