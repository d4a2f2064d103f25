// Helpers shared by every importer and exporter: the error type, id sanitizing, float32 attribute
// decoding, and the 'tandem' hints our exporters store next to a model.
import { type NodeQuant, type Tensor } from '../ir/types.js';

/** A model file Tandem cannot read or write; the message names the file (and the node/layer). */
export class ModelFormatError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ModelFormatError';
  }
}

/** Characters allowed in ids coming from foreign names; everything else becomes '_'. */
const UNSAFE = /[^A-Za-z0-9_.\-/:]/g;

/** True if `uniqueId` would keep `id` as it is (so an exporter need not record it). */
export const isPlainId = (id: string): boolean => id !== '' && !new RegExp(UNSAFE.source).test(id);

/** Turns a foreign name into an id not yet in `used` (and records it). */
export function uniqueId(raw: string, fallback: string, used: Set<string>): string {
  const base = raw.replace(UNSAFE, '_') || fallback;
  let id = base;
  for (let k = 2; used.has(id); k++) id = `${base}_${k}`;
  used.add(id);
  return id;
}

/**
 * The shortest decimal that rounds to the same float32: ONNX stores float attributes as float32,
 * so an epsilon of 1e-5 comes back as 9.99999974737875e-6; this restores the value the user wrote.
 */
export function shortestF32(x: number): number {
  if (!Number.isFinite(x)) return x;
  const f = Math.fround(x);
  for (let p = 1; p <= 9; p++) {
    const v = Number(f.toPrecision(p));
    if (Math.fround(v) === f) return v;
  }
  return f;
}

export const f32 = (shape: readonly number[], data: Float32Array): Tensor => ({ dtype: 'float32', shape: [...shape], data });

/** Per-node facts that a foreign format cannot express, stored alongside the model by our exporters. */
export interface NodeHint {
  /** IR node id, when the format's name had to differ. */
  id?: string;
  origin?: string;
  /** Disambiguates conv2d vs depthwiseConv2d when both read the same in the file. */
  op?: string;
  quant?: Record<string, unknown>;
  /** tfjs: a Conv2D exported with a block-diagonal kernel standing for a grouped conv. */
  groups?: number;
  /** tfjs: a ZeroPadding2D that the exporter split off the next conv/pool; fold it back. */
  foldPad?: boolean;
  /** tfjs: avgPool's countIncludePad where Keras padding cannot carry it. */
  countIncludePad?: boolean;
}

export interface TandemHints {
  version: 1;
  graphName?: string;
  meta?: Record<string, unknown>;
  nodes: Record<string, NodeHint>;
}

export const HINTS_KEY = 'tandem';

/** NodeQuant as JSON (weightScales as a plain array) and back. */
export function quantToJson(q: NodeQuant): Record<string, unknown> {
  return { ...q, ...(q.weightScales ? { weightScales: [...q.weightScales] } : {}) };
}
export function quantFromJson(j: Record<string, unknown>): NodeQuant {
  const { weightScales, ...rest } = j as { weightScales?: number[] } & Omit<NodeQuant, 'weightScales'>;
  return weightScales ? { ...rest, weightScales: Float32Array.from(weightScales) } : rest;
}
