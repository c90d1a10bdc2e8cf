// Runs NanoDet-g's TF.js graph (TF.js CPU backend) and the converted ONNX file
// (onnxruntime-node) on one random 416x416 input and fails if any output
// differs by more than 1e-4: proof that the conversion kept the network.
//
//   node scripts/models/compare-nanodet-tfjs.mjs MODEL.json MODEL.onnx
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';

const [jsonPath, onnxPath] = process.argv.slice(2);
if (!jsonPath || !onnxPath) throw new Error('usage: compare-nanodet-tfjs.mjs MODEL.json MODEL.onnx');

await tf.setBackend('cpu');
const modelJson = JSON.parse(readFileSync(jsonPath, 'utf8'));
const weightSpecs = modelJson.weightsManifest.flatMap((g) => g.weights);
const weightData = Buffer.concat(
  modelJson.weightsManifest.flatMap((g) => g.paths.map((p) => readFileSync(join(dirname(jsonPath), p)))),
);
const graph = await tf.loadGraphModel(
  tf.io.fromMemory({
    modelTopology: modelJson.modelTopology,
    weightSpecs,
    weightData: weightData.buffer.slice(weightData.byteOffset, weightData.byteOffset + weightData.byteLength),
  }),
);

const size = 416;
const input = new Float32Array(3 * size * size);
let seed = 1;
for (let i = 0; i < input.length; i++) {
  // Small LCG: the same input every run, values in the normalised range (about -2..2).
  seed = (seed * 1103515245 + 12345) % 2147483648;
  input[i] = (seed / 2147483648) * 4 - 2;
}
const tfOut = graph.execute(tf.tensor4d(input, [1, 3, size, size]), [
  'Identity:0',
  'Identity_3:0',
  'Identity_1:0',
  'Identity_4:0',
  'Identity_2:0',
  'Identity_5:0',
]);
const names = ['cls_stride8', 'reg_stride8', 'cls_stride16', 'reg_stride16', 'cls_stride32', 'reg_stride32'];
const session = await ort.InferenceSession.create(onnxPath, { intraOpNumThreads: 1 });
const ortOut = await session.run({ input: new ort.Tensor('float32', input, [1, 3, size, size]) });
let worst = 0;
names.forEach((name, i) => {
  const want = tfOut[i].dataSync();
  const got = ortOut[name].data;
  if (want.length !== got.length) throw new Error(`${name}: ${got.length} values, TF.js has ${want.length}`);
  for (let j = 0; j < want.length; j++) worst = Math.max(worst, Math.abs(want[j] - got[j]));
});
if (!(worst <= 1e-4)) throw new Error(`ONNX output differs from TF.js by ${worst}`);
process.stderr.write(`[convert-nanodet] ONNX matches TF.js: max abs difference ${worst.toExponential(2)}\n`);
