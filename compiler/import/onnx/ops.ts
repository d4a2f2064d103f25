// One converter per supported ONNX op: each reads its ONNX node and emits at most one IR node
// (or only re-binds names: Identity, Constant, folded Transposes and Flattens).
import { convOutSize } from '../../ir/ops.js';
import { OpKind, type Pads, type Pair, type Tensor } from '../../ir/types.js';
import { f32, shortestF32 } from '../common.js';
import { type Ctx, describeLayout, type Layout, type OnnxNode, sameLayout, type Value } from './context.js';
import { chwRowsToHwc, oihwToHwio, onnxDepthwiseToIr, transpose } from './layout.js';
import { type Const, readTensor } from './read.js';
import { cast, concatConsts, gather, shape, squeeze, unsqueeze } from './shape-ops.js';

type Handler = (c: Ctx, n: OnnxNode) => void;

const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const pairOf = (v: readonly number[] | undefined, dflt: number): Pair => (v && v.length === 2 ? [v[0], v[1]] : [dflt, dflt]);

/** Resolves auto_pad / pads to explicit [top, left, bottom, right]. */
function resolvePads(c: Ctx, n: OnnxNode, hw: readonly number[], kernel: Pair, strides: Pair, dilations: Pair): Pads {
  const mode = n.attrs.string('auto_pad', 'NOTSET');
  if (mode === 'NOTSET') {
    const p = n.attrs.ints('pads') ?? [0, 0, 0, 0];
    if (p.length !== 4 || p.some((v) => v < 0)) throw c.error(n, `has pads [${p.join(', ')}]; Tandem needs 4 non-negative 2-D pads`);
    return [p[0], p[1], p[2], p[3]];
  }
  if (mode === 'VALID') return [0, 0, 0, 0];
  if (mode !== 'SAME_UPPER' && mode !== 'SAME_LOWER') throw c.error(n, `has unknown auto_pad '${mode}'`);
  const one = (size: number, k: number, s: number, d: number): [number, number] => {
    const total = Math.max((Math.ceil(size / s) - 1) * s + (k - 1) * d + 1 - size, 0);
    const small = Math.floor(total / 2);
    // SAME_UPPER puts the odd pixel at the end (like TensorFlow), SAME_LOWER at the beginning.
    return mode === 'SAME_UPPER' ? [small, total - small] : [total - small, small];
  };
  const [t, b] = one(hw[0], kernel[0], strides[0], dilations[0]);
  const [l, r] = one(hw[1], kernel[1], strides[1], dilations[1]);
  return [t, l, b, r];
}

function conv(c: Ctx, n: OnnxNode): void {
  const x = c.nchw(n, 0);
  const w = c.constFloat(n, 1, 'weight');
  if (w.dims.length !== 4) throw c.error(n, `has a ${w.dims.length - 2}-D kernel; Tandem supports 2-D convolutions only`);
  const [m, cg, kh, kw] = w.dims;
  const [h, wd, cin] = c.shape(x);
  const group = n.attrs.int('group', 1);
  const ks = n.attrs.ints('kernel_shape');
  if (ks && (ks[0] !== kh || ks[1] !== kw)) throw c.error(n, `has kernel_shape [${ks.join(', ')}] but a [${kh}, ${kw}] weight`);
  if (cg * group !== cin) throw c.error(n, `weight expects ${cg * group} input channels (group ${group}), input '${n.inputs[0]}' has ${cin}`);
  const kernel: Pair = [kh, kw];
  const strides = pairOf(n.attrs.ints('strides'), 1);
  const dilations = pairOf(n.attrs.ints('dilations'), 1);
  const pads = resolvePads(c, n, [h, wd], kernel, strides, dilations);
  const b = c.constOpt(n, 2);
  if (b && (b.kind !== 'float' || b.data.length !== m)) throw c.error(n, `has a bias of ${b.data.length} values for ${m} output channels`);
  const bias: Record<string, Tensor> = b && b.kind === 'float' ? { bias: f32([m], Float32Array.from(b.data)) } : {};
  // group == C_in with whole multiples of C_in outputs is a depthwise conv; a hint from our own
  // exporter settles the cases both readings fit (C_in == 1, or a grouped conv2d by choice).
  const dwFits = group === cin && m % cin === 0;
  const hinted = c.hint(n).op;
  const depthwise = dwFits && (hinted === OpKind.DepthwiseConv2d || (hinted !== OpKind.Conv2d && group > 1));
  const geo = { kernel, strides, dilations, pads, useBias: !!b };
  if (depthwise) {
    const mult = m / cin;
    const kernelIr = f32([kh, kw, cin, mult], onnxDepthwiseToIr(w.data, cin, mult, kh, kw));
    c.emit(n, OpKind.DepthwiseConv2d, [x], { ...geo, depthMultiplier: mult }, { kernel: kernelIr, ...bias }, { kind: 'nchw' });
  } else {
    const kernelIr = f32([kh, kw, cg, m], oihwToHwio(w.data, w.dims));
    c.emit(n, OpKind.Conv2d, [x], { ...geo, filters: m, groups: group }, { kernel: kernelIr, ...bias }, { kind: 'nchw' });
  }
}

function pool(kind: 'max' | 'avg'): Handler {
  return (c, n) => {
    const x = c.nchw(n, 0);
    const ks = n.attrs.ints('kernel_shape');
    if (!ks || ks.length !== 2) throw c.error(n, `needs a 2-D kernel_shape`);
    const kernel: Pair = [ks[0], ks[1]];
    const strides = pairOf(n.attrs.ints('strides'), 1);
    const dil = n.attrs.ints('dilations');
    if (dil && dil.some((d) => d !== 1)) throw c.error(n, `has dilations [${dil.join(', ')}]; Tandem pools are not dilated`);
    if (kind === 'max' && c.used(n, 1)) throw c.error(n, `has its Indices output in use, which Tandem does not produce`);
    const [h, w] = c.shape(x);
    const pads = [...resolvePads(c, n, [h, w], kernel, strides, [1, 1])] as [number, number, number, number];
    if (n.attrs.int('ceil_mode', 0) === 1) {
      // ceil_mode adds a last window that overhangs the end; for max pooling that is exactly extra end padding.
      for (const [dim, size] of [
        [0, h],
        [1, w],
      ] as const) {
        const span = size + pads[dim] + pads[dim + 2] - kernel[dim];
        const out = Math.ceil(span / strides[dim]) + 1;
        if (out === convOutSize(size, kernel[dim], strides[dim], 1, pads[dim], pads[dim + 2])) continue;
        if (kind === 'avg') throw c.error(n, `uses ceil_mode=1 in a way that changes the output size; Tandem's avgPool has floor semantics`);
        if ((out - 1) * strides[dim] >= size + pads[dim]) throw c.error(n, `uses ceil_mode=1 with a last window entirely in the padding`);
        pads[dim + 2] += (out - 1) * strides[dim] + kernel[dim] - (size + pads[dim] + pads[dim + 2]);
      }
    }
    const attrs = { kernel, strides, pads: pads as Pads };
    if (kind === 'max') c.emit(n, OpKind.MaxPool, [x], attrs, {}, { kind: 'nchw' });
    else c.emit(n, OpKind.AvgPool, [x], { ...attrs, countIncludePad: n.attrs.int('count_include_pad', 0) === 1 }, {}, { kind: 'nchw' });
  };
}

function globalAveragePool(c: Ctx, n: OnnxNode): void {
  const x = c.nchw(n, 0);
  c.emit(n, OpKind.GlobalAvgPool, [x], {}, {}, { kind: 'pooled' });
}

function batchNormalization(c: Ctx, n: OnnxNode): void {
  const x = c.act(n, 0);
  const rank1 = x.layout.kind === 'exact' && c.shape(x).length === 1;
  if (x.layout.kind !== 'nchw' && x.layout.kind !== 'pooled' && !rank1) {
    throw c.error(n, `normalizes channel axis 1 of ${describeLayout(x.layout)}; Tandem's batchNorm works on the channel (last NHWC) axis only`);
  }
  if (n.attrs.int('training_mode', 0) !== 0) throw c.error(n, `is in training_mode; Tandem imports inference graphs`);
  if (n.attrs.has('spatial') && n.attrs.int('spatial', 1) !== 1) throw c.error(n, `has spatial=0, which Tandem does not support`);
  for (let k = 1; k < n.outputs.length; k++) if (c.used(n, k)) throw c.error(n, `has its training output ${k} in use`);
  const ch = c.shape(x).at(-1)!;
  const [gamma, beta, mean, variance] = [1, 2, 3, 4].map((i) => {
    const t = c.constFloat(n, i, ['', 'scale', 'bias', 'mean', 'variance'][i]);
    if (t.data.length !== ch) throw c.error(n, `has a ${['', 'scale', 'bias', 'mean', 'variance'][i]} of ${t.data.length} values for ${ch} channels`);
    return f32([ch], Float32Array.from(t.data));
  });
  const attrs = { epsilon: shortestF32(n.attrs.float('epsilon', 1e-5)), momentum: shortestF32(n.attrs.float('momentum', 0.9)) };
  c.emit(n, OpKind.BatchNorm, [x], attrs, { gamma, beta, mean, variance }, x.layout);
}

/** Element-wise unary ops keep whatever layout their input has. */
function unary(op: OpKind.Relu | OpKind.Sigmoid): Handler {
  return (c, n) => {
    const x = c.act(n, 0);
    c.emit(n, op, [x], {}, {}, x.layout);
  };
}

function leakyRelu(c: Ctx, n: OnnxNode): void {
  const x = c.act(n, 0);
  c.emit(n, OpKind.LeakyRelu, [x], { alpha: shortestF32(n.attrs.float('alpha', 0.01)) }, {}, x.layout);
}

function scalar(c: Ctx, n: OnnxNode, i: number): number | undefined {
  const t = c.constOpt(n, i);
  if (!t) return undefined;
  if (t.data.length !== 1) throw c.error(n, `needs a scalar input ${i}, got ${t.data.length} values`);
  return t.data[0];
}

function clip(c: Ctx, n: OnnxNode): void {
  const x = c.act(n, 0);
  const lo = c.opset >= 11 ? scalar(c, n, 1) : n.attrs.has('min') ? n.attrs.float('min', 0) : undefined;
  const hi = c.opset >= 11 ? scalar(c, n, 2) : n.attrs.has('max') ? n.attrs.float('max', 0) : undefined;
  if (lo === 0 && hi === 6) c.emit(n, OpKind.Relu6, [x], {}, {}, x.layout);
  else if (lo === 0 && (hi === undefined || hi === Infinity)) c.emit(n, OpKind.Relu, [x], {}, {}, x.layout);
  else throw c.error(n, `clips to [${lo ?? '-inf'}, ${hi ?? 'inf'}]; Tandem supports Clip(0, 6) (relu6) and Clip(0) (relu) only`);
}

function dropout(c: Ctx, n: OnnxNode): void {
  const x = c.act(n, 0);
  if (c.used(n, 1)) throw c.error(n, `has its mask output in use, which Tandem does not produce`);
  const rate = c.opset >= 12 ? (scalar(c, n, 1) ?? 0.5) : n.attrs.float('ratio', 0.5);
  c.emit(n, OpKind.Dropout, [x], { rate: shortestF32(rate) }, {}, x.layout);
}

function add(c: Ctx, n: OnnxNode): void {
  if (n.inputs.some((name) => c.consts.has(name))) {
    throw c.error(n, `adds a constant; Tandem supports a constant Add only as the bias of a MatMul (MatMul followed by Add)`);
  }
  const xs = n.inputs.map((_, i) => c.act(n, i));
  if (xs.some((v) => !sameLayout(v.layout, xs[0].layout))) {
    throw c.error(n, `adds tensors in different layouts (${xs.map((v) => describeLayout(v.layout)).join(' and ')})`);
  }
  c.emit(n, OpKind.Add, xs, {}, {}, xs[0].layout);
}

function concat(c: Ctx, n: OnnxNode): void {
  if (concatConsts(c, n)) return;
  const xs = n.inputs.map((_, i) => c.act(n, i));
  const l = xs[0].layout;
  if (xs.some((v) => !sameLayout(v.layout, l))) throw c.error(n, `joins tensors in different layouts`);
  const rank = c.onnxDims(xs[0]).length + 1;
  let axis = n.attrs.int('axis', 1);
  if (axis < 0) axis += rank;
  if (axis <= 0 || axis >= rank) throw c.error(n, `concatenates along axis ${n.attrs.int('axis', 1)}; Tandem concatenates per sample (not along the batch)`);
  let irAxis: number;
  if (l.kind === 'nchw') irAxis = [0, 2, 0, 1][axis];
  else if (l.kind === 'exact') irAxis = axis - 1;
  else if (l.kind === 'pooled' && axis === 1) irAxis = 0;
  else throw c.error(n, `concatenates ${describeLayout(l)} along axis ${axis}, which has no NHWC equivalent`);
  c.emit(n, OpKind.Concat, xs, { axis: irAxis }, {}, l);
}

function softmax(c: Ctx, n: OnnxNode): void {
  const x = c.act(n, 0);
  const dims = c.onnxDims(x);
  const rank = dims.length + 1;
  const legacy = c.opset < 13;
  let axis = n.attrs.int('axis', legacy ? 1 : -1);
  if (axis < 0) axis += rank;
  // Before opset 13 Softmax normalizes jointly over all dims from `axis` on: that equals a softmax
  // over the channel axis only when every other trailing dim is 1.
  const channelAxis = x.layout.kind === 'nchw' || x.layout.kind === 'pooled' ? 1 : rank - 1;
  const ok = legacy ? axis >= 1 && axis <= channelAxis && prod(dims.slice(axis - 1)) === dims[channelAxis - 1] : axis === channelAxis;
  if (!ok) throw c.error(n, `normalizes over axis ${n.attrs.int('axis', legacy ? 1 : -1)} of ${describeLayout(x.layout)}; Tandem's softmax runs over the channel (last NHWC) axis only`);
  c.emit(n, OpKind.Softmax, [x], { axis: c.shape(x).length - 1 }, {}, x.layout);
}

/** Flatten: NCHW -> flatChw (a later dense permutes its rows); NHWC/flat input -> plain flatten. */
function flatten(c: Ctx, n: OnnxNode): void {
  const x = c.act(n, 0);
  const rank = c.onnxDims(x).length + 1;
  let axis = n.attrs.int('axis', 1);
  if (axis < 0) axis += rank;
  if (axis !== 1) throw c.error(n, `flattens at axis ${n.attrs.int('axis', 1)}; Tandem supports axis 1 (keep the batch) only`);
  flattenValue(c, n, x);
}

function flattenValue(c: Ctx, n: OnnxNode, x: Value): void {
  const s = c.shape(x);
  if (x.layout.kind === 'nchw') c.emit(n, OpKind.Flatten, [x], {}, {}, { kind: 'flatChw', hwc: [s[0], s[1], s[2]] });
  else if (x.layout.kind === 'pooled') c.bind(n.outputs[0], { id: x.id, layout: { kind: 'exact' } });
  else if (x.layout.kind === 'flatChw') c.bind(n.outputs[0], x);
  else c.emit(n, OpKind.Flatten, [x], {}, {}, { kind: 'exact' });
}

function reshape(c: Ctx, n: OnnxNode): void {
  const x = c.act(n, 0);
  const shapeT = c.constOpt(n, 1);
  if (!shapeT || shapeT.kind !== 'int') throw c.error(n, `needs its target shape as an int64 initializer or Constant`);
  const dims = c.onnxDims(x);
  const allowZero = n.attrs.int('allowzero', 0) === 1;
  // The first target dim is the batch whatever it says (0, -1 or N); resolve 0 and -1 in the rest.
  const rest = shapeT.data.slice(1).map((d, i) => (d === 0 && !allowZero ? dims[i] : d));
  const known = prod(rest.filter((d) => d !== -1));
  const total = prod(dims);
  const target = rest.map((d) => (d === -1 ? total / known : d));
  if (target.some((d) => !Number.isInteger(d) || d < 1) || prod(target) !== total) {
    throw c.error(n, `cannot reshape [N, ${dims.join(', ')}] to [${shapeT.data.join(', ')}]`);
  }
  const same = target.length === dims.length && target.every((d, i) => d === dims[i]);
  if (same) {
    if (x.layout.kind === 'exact') c.emit(n, OpKind.Reshape, [x], { shape: c.shape(x) }, {}, x.layout);
    else c.bind(n.outputs[0], x);
    return;
  }
  const l = x.layout;
  if (target.length === 1 && (l.kind === 'nchw' || l.kind === 'pooled')) return flattenValue(c, n, x);
  if (l.kind === 'flatChw' && target.length === 3 && target[0] === l.hwc[2] && target[1] === l.hwc[0] && target[2] === l.hwc[1]) {
    // Undoing a flatten: the IR value goes back to [H, W, C], the ONNX tensor to NCHW.
    c.emit(n, OpKind.Reshape, [x], { shape: [...l.hwc] }, {}, { kind: 'nchw' });
    return;
  }
  if (l.kind !== 'exact') {
    throw c.error(n, `cannot reshape input '${n.inputs[0]}' to [N, ${target.join(', ')}] in Tandem's NHWC layout: it is ${describeLayout(l)}`);
  }
  c.emit(n, OpKind.Reshape, [x], { shape: target }, {}, { kind: 'exact' });
}

const NCHW_TO_NHWC = [0, 2, 3, 1];
const NHWC_TO_NCHW = [0, 3, 1, 2];
const permIs = (p: readonly number[], q: readonly number[]) => p.length === q.length && p.every((v, i) => v === q[i]);

/** Transposes fold into the layout bookkeeping: only NCHW <-> NHWC (or identity) are accepted. */
function transposeOp(c: Ctx, n: OnnxNode): void {
  const src = n.inputs[0];
  const k = c.consts.get(src);
  const perm = n.attrs.ints('perm');
  if (k) {
    if (k.kind !== 'float') throw c.error(n, `transposes an integer constant, which Tandem does not need`);
    const p = perm ?? k.dims.map((_, i) => k.dims.length - 1 - i);
    c.consts.set(n.outputs[0], { kind: 'float', dims: p.map((i) => k.dims[i]), data: transpose(k.data, k.dims, p) });
    return;
  }
  const x = c.act(n, 0);
  const rank = c.onnxDims(x).length + 1;
  const p = perm ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
  if (permIs(p, Array.from({ length: rank }, (_, i) => i))) return void c.bind(n.outputs[0], x);
  if (x.layout.kind === 'nchw' && permIs(p, NCHW_TO_NHWC)) return void c.bind(n.outputs[0], { id: x.id, layout: { kind: 'exact' } });
  if (x.layout.kind === 'exact' && rank === 4 && permIs(p, NHWC_TO_NCHW)) return void c.bind(n.outputs[0], { id: x.id, layout: { kind: 'nchw' } });
  throw c.error(n, `with perm [${p.join(', ')}] on ${describeLayout(x.layout)} cannot be folded into Tandem's NHWC layout (only NCHW<->NHWC transposes can)`);
}

function identity(c: Ctx, n: OnnxNode): void {
  const k = c.consts.get(n.inputs[0]);
  if (k) c.consts.set(n.outputs[0], k);
  else c.bind(n.outputs[0], c.act(n, 0));
}

function constant(c: Ctx, n: OnnxNode): void {
  const a = n.attrs;
  let k: Const;
  const t = a.tensor('value');
  if (t) k = readTensor(t, c.file);
  else if (a.has('value_float')) k = { kind: 'float', dims: [], data: Float32Array.of(a.float('value_float', 0)) };
  else if (a.has('value_floats')) k = { kind: 'float', dims: [a.floats('value_floats')!.length], data: Float32Array.from(a.floats('value_floats')!) };
  else if (a.has('value_int')) k = { kind: 'int', dims: [], data: [a.int('value_int', 0)] };
  else if (a.has('value_ints')) k = { kind: 'int', dims: [a.ints('value_ints')!.length], data: a.ints('value_ints')! };
  else throw c.error(n, `has no value Tandem can read (attributes: ${a.names().join(', ') || 'none'})`);
  c.consts.set(n.outputs[0], k);
}

function pad(c: Ctx, n: OnnxNode): void {
  const x = c.nchw(n, 0);
  const mode = n.attrs.string('mode', 'constant');
  if (mode !== 'constant') throw c.error(n, `uses mode '${mode}'; Tandem supports constant padding only`);
  let p: number[];
  let value = 0;
  if (c.opset >= 11) {
    const t = c.constOpt(n, 1);
    if (!t || t.kind !== 'int') throw c.error(n, `needs its pads as an int64 initializer or Constant`);
    p = [...t.data];
    value = scalar(c, n, 2) ?? 0;
    const axesT = c.constOpt(n, 3);
    if (axesT) {
      const full = new Array<number>(8).fill(0);
      const axes = axesT.data.map((a) => (a < 0 ? a + 4 : a));
      axes.forEach((a, i) => {
        full[a] = p[i];
        full[a + 4] = p[i + axes.length];
      });
      p = full;
    }
  } else {
    p = n.attrs.ints('pads') ?? [];
    value = n.attrs.float('value', 0);
  }
  if (p.length !== 8) throw c.error(n, `has ${p.length} pads; Tandem pads 4-D NCHW activations (8 values)`);
  if (p[0] || p[1] || p[4] || p[5]) throw c.error(n, `pads the batch or channel axis ([${p.join(', ')}]); Tandem pads height and width only`);
  if (p.some((v) => v < 0)) throw c.error(n, `has negative pads (cropping), which Tandem does not support`);
  c.emit(n, OpKind.Pad, [x], { pads: [p[2], p[3], p[6], p[7]], value: shortestF32(value) }, {}, { kind: 'nchw' });
}

/** The flat [N, K] input of a dense, with the row permutation it needs. */
function denseInput(c: Ctx, n: OnnxNode): { x: Value; k: number; hwc?: readonly [number, number, number] } {
  const x = c.act(n, 0);
  const s = c.shape(x);
  if (x.layout.kind === 'flatChw') return { x, k: s[0], hwc: x.layout.hwc };
  if (x.layout.kind === 'exact' && s.length === 1) return { x, k: s[0] };
  throw c.error(n, `multiplies ${describeLayout(x.layout)} of shape [N, ${c.onnxDims(x).join(', ')}]; Tandem's dense needs a 2-D [N, K] input (insert a Flatten)`);
}

function denseKernel(c: Ctx, n: OnnxNode, kernel: Float32Array, k: number, units: number, hwc?: readonly [number, number, number]) {
  if (kernel.length !== k * units) throw c.error(n, `has a [${k}, ${units}] weight that does not match its ${k}-feature input`);
  return f32([k, units], hwc ? chwRowsToHwc(kernel, hwc, units) : kernel);
}

function gemm(c: Ctx, n: OnnxNode): void {
  const { x, k, hwc } = denseInput(c, n);
  if (n.attrs.int('transA', 0) !== 0) throw c.error(n, `has transA=1; Tandem needs the activation as A without transposition`);
  const b = c.constFloat(n, 1, 'weight (B)');
  if (b.dims.length !== 2) throw c.error(n, `has a ${b.dims.length}-D B; Gemm needs 2-D`);
  const transB = n.attrs.int('transB', 0) === 1;
  const [kb, units] = transB ? [b.dims[1], b.dims[0]] : [b.dims[0], b.dims[1]];
  if (kb !== k) throw c.error(n, `has B of [${b.dims.join(', ')}] (transB=${transB ? 1 : 0}) for a ${k}-feature input`);
  let kernel = transB ? transpose(b.data, b.dims, [1, 0]) : Float32Array.from(b.data);
  const alpha = n.attrs.float('alpha', 1);
  if (alpha !== 1) kernel = kernel.map((v) => v * alpha);
  const beta = n.attrs.float('beta', 1);
  const cT = beta === 0 ? undefined : c.constOpt(n, 2);
  let bias: Float32Array | undefined;
  if (cT) {
    if (cT.kind !== 'float' || (cT.data.length !== units && cT.data.length !== 1)) throw c.error(n, `has a C of ${cT.data.length} values; Tandem needs ${units} (or one broadcast value)`);
    bias = cT.data.length === 1 ? new Float32Array(units).fill(cT.data[0]) : Float32Array.from(cT.data);
    if (beta !== 1) bias = bias.map((v) => v * beta);
  }
  const weights = { kernel: denseKernel(c, n, kernel, k, units, hwc), ...(bias ? { bias: f32([units], bias) } : {}) };
  c.emit(n, OpKind.Dense, [x], { units, useBias: !!bias }, weights, { kind: 'exact' });
}

/** MatMul with a constant right-hand side; a following Add of a constant [units] vector becomes the bias. */
function matMul(c: Ctx, n: OnnxNode): void {
  const { x, k, hwc } = denseInput(c, n);
  const b = c.constFloat(n, 1, 'weight (B)');
  if (b.dims.length !== 2) throw c.error(n, `has a ${b.dims.length}-D B; Tandem's dense needs a 2-D weight`);
  const units = b.dims[1];
  if (b.dims[0] !== k) throw c.error(n, `has B of [${b.dims.join(', ')}] for a ${k}-feature input`);
  const out = n.outputs[0];
  const users = c.consumers.get(out) ?? [];
  let bias: Float32Array | undefined;
  const next = users.length === 1 && !c.graphOutputs.has(out) ? users[0] : undefined;
  if (next && next.node.opType === 'Add' && next.node.inputs.length === 2) {
    const other = next.node.inputs[0] === out ? next.node.inputs[1] : next.node.inputs[0];
    const t = c.consts.get(other);
    if (t && t.kind === 'float' && t.data.length === units && prod(t.dims) === units && t.dims.length <= 2) {
      bias = Float32Array.from(t.data);
      c.fused.add(next.index);
    }
  }
  const weights = { kernel: denseKernel(c, n, Float32Array.from(b.data), k, units, hwc), ...(bias ? { bias: f32([units], bias) } : {}) };
  const v = c.emit(n, OpKind.Dense, [x], { units, useBias: !!bias }, weights, { kind: 'exact' });
  if (bias && next) c.bind(next.node.outputs[0], v);
}

/** Supported ONNX ops (default domain), in the order the docs list them. */
export const HANDLERS: Readonly<Record<string, Handler>> = {
  Conv: conv,
  Gemm: gemm,
  MatMul: matMul,
  BatchNormalization: batchNormalization,
  Relu: unary(OpKind.Relu),
  Clip: clip,
  LeakyRelu: leakyRelu,
  Sigmoid: unary(OpKind.Sigmoid),
  Add: add,
  Sum: add,
  Concat: concat,
  MaxPool: pool('max'),
  AveragePool: pool('avg'),
  GlobalAveragePool: globalAveragePool,
  Flatten: flatten,
  Reshape: reshape,
  Softmax: softmax,
  Dropout: dropout,
  Identity: identity,
  Pad: pad,
  Transpose: transposeOp,
  Constant: constant,
  Shape: shape,
  Gather: gather,
  Unsqueeze: unsqueeze,
  Squeeze: squeeze,
  Cast: cast,
};

export type { Layout };
