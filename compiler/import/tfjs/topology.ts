// model.json topology -> a flat, topologically sorted list of layers with their input layer names.
// Accepts what tfjs `model.save` writes (class_name Model/Functional/Sequential) and what
// tensorflowjs_converter writes for Keras (modelTopology.model_config, Keras 2 and Keras 3 node forms).
import { ModelFormatError } from '../common.js';

export type Json = Record<string, unknown>;

export interface LayerSpec {
  readonly className: string;
  readonly name: string;
  readonly config: Json;
  /** Names of the layers whose (single) outputs feed this layer, in call order. */
  readonly inputs: readonly string[];
}

export interface Topology {
  readonly name: string;
  readonly layers: readonly LayerSpec[];
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
}

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The model config inside modelTopology (tfjs puts it at the top, the Keras converter under model_config). */
function modelConfig(topology: unknown, file: string): { className: string; config: unknown } {
  if (!isObj(topology)) throw new ModelFormatError(`${file}: has no modelTopology object (is this a tfjs layers model?)`);
  const m = isObj(topology.model_config) ? topology.model_config : topology;
  if (typeof m.class_name !== 'string') throw new ModelFormatError(`${file}: modelTopology has no class_name`);
  return { className: m.class_name, config: m.config };
}

/** One input reference from an inbound node, in Keras 2 ([name, node, tensor, kwargs]) or Keras 3 (keras_history) form. */
function refName(ref: unknown, layer: string, file: string): string {
  if (Array.isArray(ref) && typeof ref[0] === 'string') {
    if ((ref[2] ?? 0) !== 0) throw new ModelFormatError(`${file}: layer '${layer}' reads output ${String(ref[2])} of layer '${ref[0]}'; Tandem supports single-output layers only`);
    return ref[0];
  }
  if (isObj(ref) && isObj(ref.config) && Array.isArray(ref.config.keras_history)) return refName(ref.config.keras_history, layer, file);
  throw new ModelFormatError(`${file}: layer '${layer}' has an inbound node Tandem cannot read: ${JSON.stringify(ref).slice(0, 120)}`);
}

function inboundOf(layer: Json, name: string, file: string): string[] {
  const nodes = layer.inbound_nodes;
  if (!Array.isArray(nodes) || nodes.length === 0) return [];
  if (nodes.length > 1) throw new ModelFormatError(`${file}: layer '${name}' is called ${nodes.length} times (a shared layer); Tandem needs each layer applied once`);
  const call = nodes[0];
  if (Array.isArray(call)) return call.map((r) => refName(r, name, file));
  if (isObj(call) && Array.isArray(call.args)) {
    const args = call.args.length === 1 && Array.isArray(call.args[0]) ? call.args[0] : call.args;
    return args.map((r) => refName(r, name, file));
  }
  throw new ModelFormatError(`${file}: layer '${name}' has an inbound node Tandem cannot read`);
}

const endpoints = (v: unknown): string[] => {
  if (!Array.isArray(v)) return [];
  if (typeof v[0] === 'string') return [v[0]];
  return v.map((e) => (Array.isArray(e) ? String(e[0]) : String(e)));
};

function layerName(l: Json): string {
  const cfg = isObj(l.config) ? l.config : {};
  return String(l.name ?? cfg.name ?? '');
}

function sequential(config: unknown, file: string): Topology {
  const layers = Array.isArray(config) ? config : isObj(config) && Array.isArray(config.layers) ? config.layers : undefined;
  if (!layers || layers.length === 0) throw new ModelFormatError(`${file}: Sequential model has no layers`);
  const out: LayerSpec[] = [];
  const first = layers[0] as Json;
  const firstCfg = (first.config ?? {}) as Json;
  if (first.class_name !== 'InputLayer') {
    const shape = firstCfg.batch_input_shape ?? firstCfg.batch_shape;
    if (!Array.isArray(shape)) throw new ModelFormatError(`${file}: Sequential model has no input shape (no InputLayer and no batch_input_shape on '${layerName(first)}')`);
    out.push({ className: 'InputLayer', name: `${layerName(first)}_input`, config: { batch_input_shape: shape, dtype: firstCfg.dtype ?? 'float32' }, inputs: [] });
  }
  for (const raw of layers as Json[]) {
    const name = layerName(raw);
    const prev = out.at(-1);
    out.push({ className: String(raw.class_name), name, config: (raw.config ?? {}) as Json, inputs: prev ? [prev.name] : [] });
  }
  const name = isObj(config) && typeof config.name === 'string' ? config.name : 'sequential';
  return { name, layers: out, inputs: [out[0].name], outputs: [out.at(-1)!.name] };
}

function functional(config: unknown, file: string): Topology {
  if (!isObj(config) || !Array.isArray(config.layers)) throw new ModelFormatError(`${file}: functional model has no layers`);
  const specs = (config.layers as Json[]).map((l) => {
    const name = layerName(l);
    return { className: String(l.class_name), name, config: (l.config ?? {}) as Json, inputs: inboundOf(l, name, file) };
  });
  // Keras writes layers in topological order already; sort anyway so hand-edited files still work.
  const byName = new Map(specs.map((s) => [s.name, s]));
  const sorted: LayerSpec[] = [];
  const state = new Map<string, number>();
  const visit = (s: LayerSpec) => {
    if (state.get(s.name) === 2) return;
    if (state.get(s.name) === 1) throw new ModelFormatError(`${file}: layer '${s.name}' is part of a cycle`);
    state.set(s.name, 1);
    for (const i of s.inputs) {
      const dep = byName.get(i);
      if (!dep) throw new ModelFormatError(`${file}: layer '${s.name}' reads unknown layer '${i}'`);
      visit(dep);
    }
    state.set(s.name, 2);
    sorted.push(s);
  };
  specs.forEach(visit);
  return { name: String(config.name ?? 'model'), layers: sorted, inputs: endpoints(config.input_layers), outputs: endpoints(config.output_layers) };
}

export function readTopology(topology: unknown, file: string): Topology {
  const { className, config } = modelConfig(topology, file);
  if (className === 'Sequential') return sequential(config, file);
  if (className === 'Model' || className === 'Functional') return functional(config, file);
  throw new ModelFormatError(`${file}: model class '${className}' is not supported (Tandem reads Sequential, Model and Functional)`);
}
