import { OnnxModelBuilder } from './onnx-model-builder';
import { requireWeight, type WeightMap } from './tfjs-weights';

/** face-api's SSD MobileNet v1 takes a 512x512 image scaled to [-1, 1]. */
export const SSD_INPUT_SIZE = 512;
export const SSD_INPUT_NAME = 'image';
export const SSD_BOXES_NAME = 'box_encodings';
export const SSD_CLASSES_NAME = 'class_logits';

/** The batch-norm epsilon face-api's mobileNetV1 uses. */
const BN_EPSILON = 0.0010000000474974513;
/** MobilenetV1 depthwise layers that stride by 2 (face-api's getStridesForLayerIdx). */
const STRIDE_2_LAYERS = new Set([2, 4, 6, 12]);

/** TF.js filters are [kh, kw, in, out]; ONNX Conv wants [out, in, kh, kw]. */
function hwioToOihw(data: Float32Array, [kh, kw, cin, cout]: readonly number[]): Float32Array {
  const out = new Float32Array(data.length);
  for (let y = 0; y < kh; y += 1)
    for (let x = 0; x < kw; x += 1)
      for (let i = 0; i < cin; i += 1)
        for (let o = 0; o < cout; o += 1)
          out[((o * cin + i) * kh + y) * kw + x] = data[((y * kw + x) * cin + i) * cout + o];
  return out;
}

class SsdGraph {
  readonly b = new OnnxModelBuilder('faceapi_ssd_mobilenetv1');
  private readonly zero: string;
  private readonly six: string;

  constructor(private readonly w: WeightMap) {
    this.zero = this.b.floatTensor('zero', [], new Float32Array([0]));
    this.six = this.b.floatTensor('six', [], new Float32Array([6]));
  }

  /** TF 'same' padding puts the odd pixel at the end: ONNX SAME_UPPER. */
  private conv(x: string, filters: string, bias: string, stride: number, kernel: number, group = 1): string {
    return this.b.node('Conv', [x, filters, bias], {
      auto_pad: 'SAME_UPPER',
      strides: [stride, stride],
      kernel_shape: [kernel, kernel],
      group,
    });
  }

  private relu6(x: string): string {
    return this.b.node('Clip', [x, this.zero, this.six]);
  }

  /** conv2d + batch_norm_offset + relu6 (face-api's pointwiseConvLayer; also used for 3x3 convs). */
  pointwise(x: string, prefix: string, stride: number): string {
    const f = requireWeight(this.w, `${prefix}/weights`, 4);
    const bias = requireWeight(this.w, `${prefix}/convolution_bn_offset`, 1);
    const [kh, kw, cin, cout] = f.shape;
    const filters = this.b.floatTensor(`${prefix}/w`, [cout, cin, kh, kw], hwioToOihw(f.data, f.shape));
    const b = this.b.floatTensor(`${prefix}/b`, [cout], bias.data);
    return this.relu6(this.conv(x, filters, b, stride, kh));
  }

  /** depthwise conv + batch norm (folded into the filter) + relu6. */
  depthwise(x: string, prefix: string, stride: number): string {
    const f = requireWeight(this.w, `${prefix}/depthwise_weights`, 4);
    const gamma = requireWeight(this.w, `${prefix}/BatchNorm/gamma`, 1).data;
    const beta = requireWeight(this.w, `${prefix}/BatchNorm/beta`, 1).data;
    const mean = requireWeight(this.w, `${prefix}/BatchNorm/moving_mean`, 1).data;
    const variance = requireWeight(this.w, `${prefix}/BatchNorm/moving_variance`, 1).data;
    const [kh, kw, channels] = f.shape;
    const filters = new Float32Array(channels * kh * kw);
    const bias = new Float32Array(channels);
    for (let c = 0; c < channels; c += 1) {
      const scale = gamma[c] / Math.sqrt(variance[c] + BN_EPSILON);
      bias[c] = beta[c] - mean[c] * scale;
      for (let y = 0; y < kh; y += 1)
        for (let xx = 0; xx < kw; xx += 1)
          filters[(c * kh + y) * kw + xx] = f.data[(y * kw + xx) * channels + c] * scale;
    }
    const fw = this.b.floatTensor(`${prefix}/w`, [channels, 1, kh, kw], filters);
    const bw = this.b.floatTensor(`${prefix}/b`, [channels], bias);
    return this.relu6(this.conv(x, fw, bw, stride, kh, channels));
  }

  /** conv + bias, then NCHW -> [1, H*W*anchors, depth] in TF.js's NHWC order. */
  predictor(x: string, prefix: string, depth: number): string {
    const f = requireWeight(this.w, `${prefix}/weights`, 4);
    const bias = requireWeight(this.w, `${prefix}/biases`, 1);
    const [kh, kw, cin, cout] = f.shape;
    const filters = this.b.floatTensor(`${prefix}/w`, [cout, cin, kh, kw], hwioToOihw(f.data, f.shape));
    const b = this.b.floatTensor(`${prefix}/b`, [cout], bias.data);
    const nhwc = this.b.node('Transpose', [this.conv(x, filters, b, 1, kh)], { perm: [0, 2, 3, 1] });
    return this.b.node('Reshape', [nhwc, this.b.int64Tensor('shape', [1, -1, depth])]);
  }
}

/**
 * face-api's SSD MobileNet v1 (ssdMobilenetv1/*.ts) as an ONNX graph, built
 * from the weights face-api ships. Outputs the raw box encodings and class
 * logits for the 5118 anchors; decoding and NMS stay in TypeScript
 * (ssd-postprocess.ts), exactly as face-api does them.
 */
export function buildSsdMobilenetV1Onnx(weights: WeightMap): Uint8Array {
  const g = new SsdGraph(weights);
  const input = g.b.input(SSD_INPUT_NAME, [1, 3, SSD_INPUT_SIZE, SSD_INPUT_SIZE]);

  let out = g.pointwise(input, 'MobilenetV1/Conv2d_0_pointwise', 2);
  let conv11 = '';
  for (let i = 1; i <= 13; i += 1) {
    out = g.depthwise(out, `MobilenetV1/Conv2d_${i}_depthwise`, STRIDE_2_LAYERS.has(i) ? 2 : 1);
    out = g.pointwise(out, `MobilenetV1/Conv2d_${i}_pointwise`, 1);
    if (i === 11) conv11 = out;
  }

  const p = (i: number, x: string, stride: number) => g.pointwise(x, `Prediction/Conv2d_${i}_pointwise`, stride);
  const conv0 = p(0, out, 1);
  const conv1 = p(1, conv0, 2);
  const conv3 = p(3, p(2, conv1, 1), 2);
  const conv5 = p(5, p(4, conv3, 1), 2);
  const conv7 = p(7, p(6, conv5, 1), 2);

  const sources = [conv11, out, conv1, conv3, conv5, conv7];
  const boxes = sources.map((x, i) => g.predictor(x, `Prediction/BoxPredictor_${i}/BoxEncodingPredictor`, 4));
  const classes = sources.map((x, i) => g.predictor(x, `Prediction/BoxPredictor_${i}/ClassPredictor`, 3));
  g.b.node('Concat', boxes, { axis: 1 }, SSD_BOXES_NAME);
  g.b.node('Concat', classes, { axis: 1 }, SSD_CLASSES_NAME);
  g.b.output(SSD_BOXES_NAME, [1, 'anchors', 4]);
  g.b.output(SSD_CLASSES_NAME, [1, 'anchors', 3]);
  return g.b.toBytes();
}
