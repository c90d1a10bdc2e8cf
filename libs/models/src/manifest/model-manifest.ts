/**
 * The manifest that ships next to every ONNX classifier (`<model>.onnx.manifest.json`,
 * written by tools/crowdlens_tools/export.py) and the checks run before a
 * model is served: the file is the one the manifest describes (sha256), the
 * manifest states the model contract (labels [female, male], 224x224 RGB,
 * ImageNet normalisation), and the ONNX graph's input/output shapes agree
 * with the manifest. Anything else is refused with a typed error.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { z } from 'zod';
import { ModelCardSchema } from './model-card';

/** Label order of the model contract: logits[0] = female, logits[1] = male. */
export const MODEL_LABELS = ['female', 'male'] as const;
/** Side of the square input the model contract fixes. */
export const MODEL_INPUT_SIZE = 224;
export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;
export const MANIFEST_SCHEMA_VERSION = 1;

/** A batch dimension is either fixed (a positive int) or symbolic (a name such as "N"). */
const DimSchema = z.union([z.number().int().positive(), z.string().min(1)]);
const Triple = z.tuple([z.number(), z.number(), z.number()]);

export const ModelManifestSchema = z
  .object({
    schemaVersion: z.literal(MANIFEST_SCHEMA_VERSION),
    name: z.string().min(1).describe('model family, e.g. crowdlens-resnet50-gender'),
    version: z.string().min(1).describe('published with every prediction; accuracy is reported per version'),
    architecture: z.string().min(1).describe('e.g. torchvision resnet50, fc 2048->2'),
    precision: z
      .enum(['fp32', 'fp16', 'int8'])
      .default('fp32')
      .describe('weights/compute precision; input and output stay float32 at every precision'),
    format: z.literal('onnx'),
    opset: z.number().int().positive(),
    input: z
      .object({
        name: z.string().min(1),
        shape: z.tuple([
          DimSchema,
          z.number().int().positive(),
          z.number().int().positive(),
          z.number().int().positive(),
        ]),
        layout: z.literal('NCHW'),
        dtype: z.literal('float32'),
        colorSpace: z.literal('RGB'),
      })
      .strict(),
    preprocessing: z
      .object({
        resize: z
          .object({
            size: z.number().int().positive().describe('torchvision Resize(size): the shorter side becomes size'),
            mode: z.literal('shorter-side'),
            interpolation: z.literal('bilinear'),
            antialias: z.boolean().describe('PIL images are always antialiased by torchvision'),
            backend: z.literal('pil'),
          })
          .strict(),
        centerCrop: z.number().int().positive().describe('torchvision CenterCrop(size) after the resize'),
        scale: z.number().positive().describe('ToTensor: uint8 * scale, i.e. 1/255'),
        mean: Triple,
        std: Triple,
      })
      .strict(),
    labels: z.array(z.string().min(1)).min(1),
    output: z
      .object({
        name: z.string().min(1),
        shape: z.tuple([DimSchema, z.number().int().positive()]),
        kind: z.literal('logits'),
      })
      .strict(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/, '64 lowercase hex digits'),
    source: z
      .looseObject({
        tool: z.string().min(1),
        framework: z.string().min(1),
        checkpoint: z.string().nullable(),
        initialWeights: z.string().min(1).describe('e.g. random-init, imagenet:<file>, trained'),
        dataset: z.string().nullable(),
      })
      .describe('provenance: how the weights were made'),
    created: z.iso.datetime({ offset: true }),
    card: ModelCardSchema.optional().describe('model card from `evaluate --attach-card`; absent = unmeasured'),
  })
  .strict();

export type ModelManifest = z.infer<typeof ModelManifestSchema>;

export type ModelProblem =
  | 'manifest-missing'
  | 'manifest-invalid'
  | 'model-missing'
  | 'model-corrupt'
  | 'sha256-mismatch'
  | 'labels-mismatch'
  | 'contract-violation'
  | 'graph-mismatch';

/** Why a model was refused. `problem` is machine-readable; the message names the file and the mismatch. */
export class ModelValidationError extends Error {
  constructor(
    readonly problem: ModelProblem,
    message: string,
    readonly modelPath: string,
    readonly manifestPath?: string,
    options?: { cause?: unknown },
  ) {
    super(`${message} (model ${modelPath}${manifestPath ? `, manifest ${manifestPath}` : ''})`, options);
    this.name = 'ModelValidationError';
  }
}

export function defaultManifestPath(modelPath: string): string {
  return `${modelPath}.manifest.json`;
}

/** Reads and schema-checks a manifest. It does not look at the model file. */
export async function loadManifest(manifestPath: string, modelPath = manifestPath): Promise<ModelManifest> {
  let text: string;
  try {
    text = await readFile(manifestPath, 'utf8');
  } catch (err) {
    throw new ModelValidationError(
      'manifest-missing',
      // export.py writes the manifest beside the .onnx; a hand-made or renamed model has none.
      `cannot read model manifest: ${(err as Error).message}. Every ONNX model needs the manifest its export writes: ` +
        `run tools/crowdlens-tools export --checkpoint <your-checkpoint.pth> --out ${modelPath}`,
      modelPath,
      manifestPath,
      { cause: err },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ModelValidationError(
      'manifest-invalid',
      `model manifest is not JSON: ${(err as Error).message}`,
      modelPath,
      manifestPath,
      { cause: err },
    );
  }
  const parsed = ModelManifestSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new ModelValidationError('manifest-invalid', `model manifest is invalid: ${issues}`, modelPath, manifestPath);
  }
  return parsed.data;
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

const close = (a: readonly number[], b: readonly number[], tol = 1e-6): boolean =>
  a.length === b.length && a.every((v, i) => Math.abs(v - b[i]!) <= tol);

/**
 * The manifest must describe the model contract the rest of the pipeline
 * relies on: label order, the 224x224 3-channel input, and the
 * preprocessing that torchvision-preprocess.ts implements.
 */
export function checkManifestContract(manifest: ModelManifest, modelPath: string, manifestPath?: string): void {
  const fail = (problem: ModelProblem, msg: string): never => {
    throw new ModelValidationError(problem, msg, modelPath, manifestPath);
  };
  if (manifest.labels.length !== MODEL_LABELS.length || manifest.labels.some((l, i) => l !== MODEL_LABELS[i])) {
    fail(
      'labels-mismatch',
      `manifest labels ${JSON.stringify(manifest.labels)} differ from the model contract ${JSON.stringify(MODEL_LABELS)}`,
    );
  }
  const [, channels, height, width] = manifest.input.shape;
  if (channels !== 3)
    fail('contract-violation', `model input has ${channels} channels, the model contract requires 3 (RGB)`);
  if (height !== MODEL_INPUT_SIZE || width !== MODEL_INPUT_SIZE) {
    fail(
      'contract-violation',
      `model input is ${height}x${width}, the model contract requires ${MODEL_INPUT_SIZE}x${MODEL_INPUT_SIZE}`,
    );
  }
  const pre = manifest.preprocessing;
  if (pre.centerCrop !== MODEL_INPUT_SIZE || pre.resize.size !== MODEL_INPUT_SIZE) {
    fail(
      'contract-violation',
      `preprocessing resizes to ${pre.resize.size} and crops ${pre.centerCrop}, the model contract requires ${MODEL_INPUT_SIZE}`,
    );
  }
  if (!close([pre.scale], [1 / 255], 1e-9)) fail('contract-violation', `preprocessing scale ${pre.scale} is not 1/255`);
  if (!close(pre.mean, IMAGENET_MEAN) || !close(pre.std, IMAGENET_STD)) {
    fail(
      'contract-violation',
      `preprocessing mean ${JSON.stringify(pre.mean)} / std ${JSON.stringify(pre.std)} are not the ImageNet values of the model contract`,
    );
  }
  if (manifest.card && manifest.card.model.sha256 !== manifest.sha256) {
    fail(
      'contract-violation',
      `the model card was measured on another file (sha256 ${manifest.card.model.sha256}), not this manifest's ${manifest.sha256}`,
    );
  }
  const [, classes] = manifest.output.shape;
  if (classes !== MODEL_LABELS.length)
    fail(
      'contract-violation',
      `model output has ${classes} classes, the model contract requires 2 logits [female, male]`,
    );
  if (typeof manifest.input.shape[0] !== typeof manifest.output.shape[0]) {
    fail('contract-violation', 'input and output batch dimensions disagree (one is dynamic, one fixed)');
  }
}

/**
 * The manifest is schema-valid and states the contract, and the model file
 * exists and hashes to the manifest's sha256. The graph itself is checked by
 * `verifyGraphAgainstManifest` once a runtime has opened it.
 */
export async function verifyModelAgainstManifest(
  modelPath: string,
  manifest: ModelManifest,
  manifestPath?: string,
): Promise<void> {
  checkManifestContract(manifest, modelPath, manifestPath);
  try {
    const info = await stat(modelPath);
    if (!info.isFile()) throw new Error('not a regular file');
  } catch (err) {
    throw new ModelValidationError(
      'model-missing',
      `model file is missing: ${(err as Error).message}`,
      modelPath,
      manifestPath,
      { cause: err },
    );
  }
  const actual = await sha256File(modelPath);
  if (actual !== manifest.sha256) {
    throw new ModelValidationError(
      'sha256-mismatch',
      `model file sha256 ${actual} does not match the manifest's ${manifest.sha256}: the file was changed or the manifest belongs to another model`,
      modelPath,
      manifestPath,
    );
  }
}

/** What a runtime reports about one graph input or output (onnxruntime's ValueMetadata has this shape). */
export type GraphValueInfo =
  | { readonly name: string; readonly isTensor: false }
  | {
      readonly name: string;
      readonly isTensor: true;
      readonly type: string;
      readonly shape: ReadonlyArray<number | string>;
    };

export interface GraphSignature {
  readonly inputs: readonly GraphValueInfo[];
  readonly outputs: readonly GraphValueInfo[];
}

const isDynamic = (d: number | string): boolean => typeof d === 'string' || d < 0;
const fmtShape = (s: ReadonlyArray<number | string>): string => `[${s.join(',')}]`;

function dimsAgree(graph: ReadonlyArray<number | string>, manifest: ReadonlyArray<number | string>): boolean {
  if (graph.length !== manifest.length) return false;
  return manifest.every((m, i) => {
    const g = graph[i]!;
    if (typeof m === 'string') return isDynamic(g);
    return !isDynamic(g) && g === m;
  });
}

/** The opened graph has exactly one float32 input and one output whose names and shapes are the manifest's. */
export function verifyGraphAgainstManifest(
  graph: GraphSignature,
  manifest: ModelManifest,
  modelPath: string,
  manifestPath?: string,
): void {
  const fail = (msg: string): never => {
    throw new ModelValidationError('graph-mismatch', msg, modelPath, manifestPath);
  };
  if (graph.inputs.length !== 1)
    fail(`ONNX graph has ${graph.inputs.length} inputs, expected exactly 1 (${manifest.input.name})`);
  if (graph.outputs.length < 1) fail('ONNX graph has no outputs');
  const input = graph.inputs[0]!;
  if (input.name !== manifest.input.name)
    fail(`ONNX graph input is named "${input.name}", the manifest says "${manifest.input.name}"`);
  if (!input.isTensor) fail(`ONNX graph input "${input.name}" is not a tensor`);
  if (input.isTensor) {
    if (input.type !== 'float32') fail(`ONNX graph input "${input.name}" is ${input.type}, the manifest says float32`);
    if (!dimsAgree(input.shape, manifest.input.shape)) {
      fail(
        `ONNX graph input "${input.name}" has shape ${fmtShape(input.shape)}, the manifest says ${fmtShape(manifest.input.shape)}`,
      );
    }
  }
  const output = graph.outputs.find((o) => o.name === manifest.output.name);
  if (!output)
    fail(
      `ONNX graph has no output "${manifest.output.name}" (it has ${graph.outputs.map((o) => `"${o.name}"`).join(', ')})`,
    );
  if (output && output.isTensor) {
    if (output.type !== 'float32')
      fail(`ONNX graph output "${output.name}" is ${output.type}, expected float32 logits`);
    // Exporters do not always give the output a symbolic batch dim; a known class count is what matters.
    const shape = output.shape;
    const classes = shape[shape.length - 1];
    if (shape.length !== 2 || (typeof classes === 'number' && classes >= 0 && classes !== manifest.output.shape[1])) {
      fail(
        `ONNX graph output "${output.name}" has shape ${fmtShape(shape)}, the manifest says ${fmtShape(manifest.output.shape)}`,
      );
    }
  }
}
