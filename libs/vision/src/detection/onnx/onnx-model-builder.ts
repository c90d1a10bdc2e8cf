import { ProtoWriter } from './protobuf-writer';

/** ONNX TensorProto.DataType values used here. */
const FLOAT = 1;
const INT64 = 7;

/** Field numbers from onnx.proto (ModelProto, GraphProto, NodeProto, ...). */
const F = {
  model: { irVersion: 1, producerName: 2, graph: 7, opsetImport: 8 },
  opset: { domain: 1, version: 2 },
  graph: { node: 1, name: 2, initializer: 5, input: 11, output: 12 },
  node: { input: 1, output: 2, name: 3, opType: 4, attribute: 5 },
  attr: { name: 1, f: 2, i: 3, s: 4, ints: 8, type: 20 },
  tensor: { dims: 1, dataType: 2, name: 8, rawData: 9 },
  valueInfo: { name: 1, type: 2 },
  type: { tensorType: 1 },
  tensorType: { elemType: 1, shape: 2 },
  shape: { dim: 1 },
  dim: { value: 1, param: 2 },
} as const;
const ATTR_TYPE = { FLOAT: 1, INT: 2, STRING: 3, INTS: 7 } as const;

export type AttrValue = number | string | readonly number[] | { readonly float: number };

interface NodeSpec {
  readonly op: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attrs: Readonly<Record<string, AttrValue>>;
}

interface TensorSpec {
  readonly name: string;
  readonly dims: readonly number[];
  readonly type: typeof FLOAT | typeof INT64;
  readonly raw: Uint8Array;
}

interface IoSpec {
  readonly name: string;
  /** A string is a symbolic dimension. */
  readonly dims: readonly (number | string)[];
}

/**
 * Builds an ONNX model (opset 13) in memory: enough of the format for
 * inference graphs of convolutions and tensor plumbing. onnxruntime takes the
 * bytes directly, so nothing is written to disk.
 */
export class OnnxModelBuilder {
  private readonly nodes: NodeSpec[] = [];
  private readonly initializers: TensorSpec[] = [];
  private readonly inputs: IoSpec[] = [];
  private readonly outputs: IoSpec[] = [];
  private counter = 0;

  constructor(private readonly graphName: string) {}

  /** A fresh value name with a readable prefix. */
  fresh(prefix: string): string {
    this.counter += 1;
    return `${prefix}_${this.counter}`;
  }

  input(name: string, dims: readonly (number | string)[]): string {
    this.inputs.push({ name, dims });
    return name;
  }

  output(name: string, dims: readonly (number | string)[]): void {
    this.outputs.push({ name, dims });
  }

  floatTensor(prefix: string, dims: readonly number[], data: Float32Array): string {
    const expected = dims.reduce((a, b) => a * b, 1);
    if (data.length !== expected)
      throw new RangeError(`${prefix}: ${data.length} values for dims [${dims.join(', ')}]`);
    const name = this.fresh(prefix);
    // A view, not a copy: the caller hands over `data` (freshly transposed or folded weights).
    const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    this.initializers.push({ name, dims, type: FLOAT, raw });
    return name;
  }

  int64Tensor(prefix: string, values: readonly number[]): string {
    const name = this.fresh(prefix);
    const data = new BigInt64Array(values.map((v) => BigInt(v)));
    this.initializers.push({ name, dims: [values.length], type: INT64, raw: new Uint8Array(data.buffer) });
    return name;
  }

  node(
    op: string,
    inputs: readonly string[],
    attrs: Readonly<Record<string, AttrValue>> = {},
    output?: string,
  ): string {
    const out = output ?? this.fresh(op.toLowerCase());
    this.nodes.push({ op, inputs, outputs: [out], attrs });
    return out;
  }

  toBytes(): Uint8Array {
    const w = new ProtoWriter();
    w.int(F.model.irVersion, 8);
    w.string(F.model.producerName, 'crowdlens');
    w.message(F.model.opsetImport, (o) => o.string(F.opset.domain, '').int(F.opset.version, 13));
    w.message(F.model.graph, (g) => {
      for (const n of this.nodes) g.message(F.graph.node, (nw) => writeNode(nw, n));
      g.string(F.graph.name, this.graphName);
      for (const t of this.initializers) g.message(F.graph.initializer, (tw) => writeTensor(tw, t));
      for (const i of this.inputs) g.message(F.graph.input, (vw) => writeValueInfo(vw, i));
      for (const o of this.outputs) g.message(F.graph.output, (vw) => writeValueInfo(vw, o));
    });
    return w.finish();
  }
}

function writeNode(w: ProtoWriter, n: NodeSpec): void {
  for (const i of n.inputs) w.string(F.node.input, i);
  for (const o of n.outputs) w.string(F.node.output, o);
  w.string(F.node.name, n.outputs[0] ?? n.op);
  w.string(F.node.opType, n.op);
  for (const [name, value] of Object.entries(n.attrs)) w.message(F.node.attribute, (a) => writeAttr(a, name, value));
}

function writeAttr(w: ProtoWriter, name: string, value: AttrValue): void {
  w.string(F.attr.name, name);
  if (typeof value === 'number') {
    w.int(F.attr.i, value).int(F.attr.type, ATTR_TYPE.INT);
  } else if (typeof value === 'string') {
    w.string(F.attr.s, value).int(F.attr.type, ATTR_TYPE.STRING);
  } else if ('float' in value) {
    w.float(F.attr.f, value.float).int(F.attr.type, ATTR_TYPE.FLOAT);
  } else {
    w.ints(F.attr.ints, value).int(F.attr.type, ATTR_TYPE.INTS);
  }
}

function writeTensor(w: ProtoWriter, t: TensorSpec): void {
  w.ints(F.tensor.dims, t.dims);
  w.int(F.tensor.dataType, t.type);
  w.string(F.tensor.name, t.name);
  w.bytes(F.tensor.rawData, t.raw);
}

function writeValueInfo(w: ProtoWriter, io: IoSpec): void {
  w.string(F.valueInfo.name, io.name);
  w.message(F.valueInfo.type, (tp) =>
    tp.message(F.type.tensorType, (tt) => {
      tt.int(F.tensorType.elemType, FLOAT);
      tt.message(F.tensorType.shape, (s) => {
        for (const d of io.dims) {
          s.message(F.shape.dim, (dw) => (typeof d === 'number' ? dw.int(F.dim.value, d) : dw.string(F.dim.param, d)));
        }
      });
    }),
  );
}
