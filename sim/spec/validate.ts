// Reading and validating an AcceleratorSpec: every field is checked against one schema table, every
// error names the field (and the file) and says what was expected; unknown fields are errors too (a
// typo must not silently fall back to a default). Consistency rules that span fields come after.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { DataError } from '../../compiler/data/errors.js';
import { PRESETS } from './presets.js';
import { type AcceleratorSpec, cellsNeeded, columnsPerWeight, signedSums, weightColumns } from './types.js';

type Check =
  | { readonly t: 'int'; readonly min: number; readonly max?: number }
  | { readonly t: 'num'; readonly min: number; readonly max?: number; readonly openMin?: boolean }
  | { readonly t: 'enum'; readonly values: readonly string[] }
  | { readonly t: 'bool' }
  | { readonly t: 'str' }
  | { readonly t: 'coeffs' };
type Schema = { readonly [k: string]: Check | Schema | Variants };
/** A tagged union: the `model` field picks the schema of the rest. */
interface Variants {
  readonly variants: Readonly<Record<string, Schema>>;
}

const int = (min: number, max?: number): Check => ({ t: 'int', min, max });
const num = (min: number, max?: number): Check => ({ t: 'num', min, max });
const pos = (max?: number): Check => ({ t: 'num', min: 0, max, openMin: true });
const oneOf = (...values: string[]): Check => ({ t: 'enum', values });

const SCHEMA: Schema = {
  name: { t: 'str' },
  description: { t: 'str' },
  crossbar: { rows: int(1, 65536), cols: int(1, 65536), cellBits: int(1, 8), gMinUs: num(0), gMaxUs: pos(), readVoltageV: pos(), rowWireResistanceOhm: num(0), colWireResistanceOhm: num(0), inputDrive: oneOf('voltage', 'gate') },
  weights: { bits: int(2, 16), cellsPerWeight: int(1, 16), signed: oneOf('differential', 'offset', 'twos-complement') },
  input: { dacBits: int(1, 16) },
  adc: {
    bits: int(1, 24),
    perArray: int(1, 65536),
    range: oneOf('max', 'calibrated', 'fixed'),
    fixedFullScaleFraction: { t: 'num', min: 0, max: 1, openMin: true },
    calibrationPercentile: { t: 'num', min: 0, max: 100, openMin: true },
    center: oneOf('zero', 'calibrated'),
    offsetLsb: num(-1e6),
    gainError: num(-0.5, 0.5),
    inlLsb: num(-1e6),
  },
  architecture: { arraysPerTile: int(1), tiles: int(1), inputBufferKiB: num(0), outputBufferKiB: num(0), depthwise: oneOf('digital', 'crossbar', 'auto'), duplicate: { t: 'bool' } },
  digital: { opsPerCycle: pos(), clockMhz: pos() },
  devices: {
    programmingNoise: { variants: { none: {}, gaussian: { stdFractionOfRange: num(0, 10) }, pcm: { coefficientsUs: { t: 'coeffs' }, scale: num(0) } } },
    readNoise: { variants: { none: {}, gaussian: { stdFractionOfRange: num(0, 10) }, pcm: { tReadS: pos(), scale: num(0) } } },
    drift: { variants: { none: {}, 'power-law': { nuMean: num(0, 1), nuStd: num(0, 1), t0S: pos() }, pcm: { t0S: pos() } } },
    driftCompensation: { t: 'bool' },
    stuckOnRate: num(0, 1),
    stuckOffRate: num(0, 1),
  },
  energy: { adcPjPerConversion: num(0), dacPjPerRowCycle: num(0), shiftAddPjPerOp: num(0), bufferPjPerByte: num(0), interconnectPjPerByte: num(0), digitalPjPerOp: num(0), cellWritePjPerCell: num(0) },
  area: { arrayUm2: num(0), adcUm2: num(0), shiftAddUm2PerArray: num(0), bufferUm2PerKiB: num(0), digitalUm2: num(0) },
  latency: { arrayReadNs: pos(), adcNsPerConversion: pos(), rowWriteNs: num(0), bufferBytesPerNs: pos(), interconnectBytesPerNs: pos() },
};

/** Fields that may be absent. */
const OPTIONAL = new Set(['adc.fixedFullScaleFraction', 'adc.calibrationPercentile', 'adc.center']);

const isVariants = (s: Check | Schema | Variants): s is Variants => 'variants' in s;
const isCheck = (s: Check | Schema | Variants): s is Check => 't' in s && typeof (s as { t: unknown }).t === 'string';
const describe = (v: unknown) => (typeof v === 'string' ? `'${v}'` : JSON.stringify(v));

function checkValue(path: string, v: unknown, c: Check): string | undefined {
  switch (c.t) {
    case 'str':
      return typeof v === 'string' && v.length > 0 ? undefined : 'expected a non-empty string';
    case 'bool':
      return typeof v === 'boolean' ? undefined : 'expected true or false';
    case 'enum':
      return typeof v === 'string' && c.values.includes(v) ? undefined : `expected one of ${c.values.join(', ')}`;
    case 'coeffs':
      return Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number' && Number.isFinite(x)) ? undefined : 'expected three finite numbers [c0, c1, c2]';
    case 'int':
    case 'num': {
      const bounds = `${c.t === 'int' ? 'an integer' : 'a number'} ${'openMin' in c && c.openMin ? '>' : '>='} ${c.min}${c.max !== undefined ? ` and <= ${c.max}` : ''}`;
      if (typeof v !== 'number' || !Number.isFinite(v)) return `expected ${bounds}`;
      if (c.t === 'int' && !Number.isInteger(v)) return `expected ${bounds}`;
      if (v < c.min || ('openMin' in c && c.openMin && v === c.min) || (c.max !== undefined && v > c.max)) return `expected ${bounds}`;
      return undefined;
    }
  }
  return path;
}

function walk(obj: unknown, schema: Schema, prefix: string, errors: string[]): void {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
    errors.push(`${prefix || '(top level)'}: expected an object`);
    return;
  }
  const o = obj as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!(k in schema) && !(prefix && k === 'model')) errors.push(`${prefix}${k}: unknown field (known: ${Object.keys(schema).join(', ')})`);
  for (const [k, s] of Object.entries(schema)) {
    const path = prefix + k;
    const v = o[k];
    if (v === undefined) {
      if (!OPTIONAL.has(path)) errors.push(`${path}: missing`);
      continue;
    }
    if (isVariants(s)) {
      const model = (v as { model?: unknown } | null)?.model;
      const variant = typeof model === 'string' ? s.variants[model] : undefined;
      if (!variant) errors.push(`${path}.model = ${describe(model)}: expected one of ${Object.keys(s.variants).join(', ')}`);
      else walk(v, variant, `${path}.`, errors);
    } else if (isCheck(s)) {
      const why = checkValue(path, v, s);
      if (why) errors.push(`${path} = ${describe(v)}: ${why}`);
    } else {
      walk(v, s, `${path}.`, errors);
    }
  }
}

/** Rules that span fields (only run once every field has the right type). */
function consistency(s: AcceleratorSpec): string[] {
  const e: string[] = [];
  const { crossbar: x, weights: w, adc } = s;
  if (x.gMaxUs <= x.gMinUs) e.push(`crossbar.gMaxUs = ${x.gMaxUs}: expected > crossbar.gMinUs (${x.gMinUs})`);
  if (x.inputDrive === 'gate' && x.rowWireResistanceOhm !== 0) e.push(`crossbar.rowWireResistanceOhm = ${x.rowWireResistanceOhm}: expected 0 with crossbar.inputDrive 'gate' (the word lines drive transistor gates and carry no cell current)`);
  const need = cellsNeeded(w, x.cellBits);
  if (w.cellsPerWeight < need) {
    const what = w.signed === 'differential' ? `the ${w.bits - 1}-bit magnitude of a ${w.bits}-bit weight (differential)` : w.signed === 'offset' ? `a ${w.bits}-bit weight plus its offset (offset)` : `a ${w.bits}-bit weight's ${w.bits - 1} low bits and its sign cell (twos-complement)`;
    e.push(`weights.cellsPerWeight = ${w.cellsPerWeight}: ${w.cellsPerWeight} cells of ${x.cellBits} bits cannot hold ${what}; expected >= ${need}`);
  }
  if (columnsPerWeight(s) > weightColumns(s)) e.push(`crossbar.cols = ${x.cols}: one weight needs ${columnsPerWeight(s)} columns${w.signed === 'offset' ? ` plus ${w.cellsPerWeight} reference columns` : ''}`);
  if (adc.perArray > x.cols) e.push(`adc.perArray = ${adc.perArray}: more ADCs than the ${x.cols} columns of an array`);
  if (adc.range === 'fixed' && adc.fixedFullScaleFraction === undefined) e.push(`adc.fixedFullScaleFraction: missing (required by adc.range 'fixed')`);
  if (adc.range === 'calibrated' && adc.calibrationPercentile === undefined) e.push(`adc.calibrationPercentile: missing (required by adc.range 'calibrated')`);
  if (adc.center === 'calibrated' && adc.range !== 'calibrated') e.push(`adc.center = 'calibrated': expected adc.range 'calibrated' (the centre is calibrated with the full scale), not '${adc.range}'`);
  if (adc.center === 'calibrated' && !signedSums(s)) e.push(`adc.center = 'calibrated': expected signed column sums (weights.signed 'differential' or 'offset'), not '${w.signed}'`);
  if (s.devices.stuckOnRate + s.devices.stuckOffRate > 1) e.push(`devices.stuckOnRate + devices.stuckOffRate = ${s.devices.stuckOnRate + s.devices.stuckOffRate}: expected <= 1`);
  return e;
}

/** Validates a parsed spec; throws a DataError listing every problem, each naming its field. */
export function validateSpec(obj: unknown, source = 'accelerator spec'): AcceleratorSpec {
  const errors: string[] = [];
  walk(obj, SCHEMA, '', errors);
  if (!errors.length) errors.push(...consistency(obj as AcceleratorSpec));
  if (errors.length) throw new DataError(`${source}: ${errors.length === 1 ? errors[0] : `${errors.length} problems:\n  ${errors.join('\n  ')}`}`);
  return obj as AcceleratorSpec;
}

/** Sets `path` (dotted, e.g. 'adc.bits') to `value` in a copy of the spec (validate afterwards). */
export function withOverride(spec: AcceleratorSpec, path: string, value: unknown): AcceleratorSpec {
  const copy = structuredClone(spec) as unknown as Record<string, unknown>;
  const keys = path.split('.');
  let o = copy;
  for (const k of keys.slice(0, -1)) {
    if (typeof o[k] !== 'object' || o[k] === null) throw new DataError(`--set ${path}: '${k}' is not a section of the accelerator spec`);
    o = o[k] as Record<string, unknown>;
  }
  o[keys[keys.length - 1]] = value;
  return copy as unknown as AcceleratorSpec;
}

/** Parses one `--set path=value` (value as JSON when it parses, else a string). */
export function parseOverride(s: string): [string, unknown] {
  const eq = s.indexOf('=');
  if (eq <= 0) throw new DataError(`--set ${s}: expected path=value, e.g. adc.bits=6`);
  const raw = s.slice(eq + 1);
  let value: unknown = raw;
  try {
    value = JSON.parse(raw);
  } catch {
    /* a bare string such as an enum value */
  }
  return [s.slice(0, eq), value];
}

/**
 * A preset by name or a JSON/YAML file, with `path=value` overrides applied, validated. Throws a
 * DataError naming an unknown preset (with the known ones), an unreadable file, or the bad field.
 */
export function loadSpec(nameOrFile: string, overrides: readonly string[] = []): AcceleratorSpec {
  let spec: unknown;
  let source: string;
  if (Object.hasOwn(PRESETS, nameOrFile)) {
    spec = structuredClone(PRESETS[nameOrFile]);
    source = `accelerator preset '${nameOrFile}'`;
  } else if (/\.(json|ya?ml)$/i.test(nameOrFile)) {
    source = `accelerator spec ${nameOrFile}`;
    let text: string;
    try {
      text = readFileSync(nameOrFile, 'utf8');
    } catch (e) {
      throw new DataError(`${source}: cannot read (${(e as Error).message})`);
    }
    try {
      spec = /\.json$/i.test(nameOrFile) ? JSON.parse(text) : parseYaml(text);
    } catch (e) {
      throw new DataError(`${source}: not valid ${/\.json$/i.test(nameOrFile) ? 'JSON' : 'YAML'} (${(e as Error).message})`);
    }
  } else {
    throw new DataError(`accelerator '${nameOrFile}': unknown preset (known: ${Object.keys(PRESETS).join(', ')}) and not a .json/.yaml file`);
  }
  for (const o of overrides) {
    const [path, value] = parseOverride(o);
    spec = withOverride(spec as AcceleratorSpec, path, value);
  }
  return validateSpec(spec, source + (overrides.length ? ` with ${overrides.map((o) => `--set ${o}`).join(' ')}` : ''));
}
