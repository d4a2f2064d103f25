// Checks of every API payload where it enters a Node process (the HTTP server, Electron's main process):
// the renderer is untrusted. Names never become paths by themselves: a model is a built-in name, an upload
// name, a job id or a co-design candidate, each matched by a strict pattern; file names cannot climb out of
// their folder. A failure is an ApiInputError naming the method, the field and what was expected.
import { Fields, type Obj } from '../../compiler/util/fields.js';
import { API_METHODS, MAX_BODY_BYTES, type ApiMethod, type JobRequest, type TandemApi } from './types.js';

export class ApiInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ApiInputError';
  }
}

/** A file name that stays in its folder: no separators, no leading dot, no '..', printable ASCII. */
export const SAFE_NAME = /^(?!\.)(?!.*\.\.)[A-Za-z0-9._ -]{1,128}$/;
const JOB_ID = /^j[0-9]{1,6}-[0-9a-z]{1,12}$/;
const BUILTIN = /^[a-z][a-z0-9-]{0,63}$/;
const ACCEL = /^[a-z][a-z0-9-]{0,63}$/;
const SPEC_KEY = /^[A-Za-z][A-Za-z0-9_.]{0,63}$/;
const SPEC_VALUE = /^[A-Za-z0-9_.+-]{1,64}$/;
const DURATION = /^\d+(\.\d+)?(s|min|h|d|w|mo|y)?$/;
/** A serial device: /dev/tty*, /dev/serial/by-id/..., or COMn. */
const PORT = /^(\/dev\/(?!.*\.\.)[A-Za-z0-9/_.:-]{1,200}|COM[0-9]{1,3})$/;
const TARGET = /^(host|qemu|serial:(\/dev\/(?!.*\.\.)[A-Za-z0-9/_.:-]{1,200}|COM[0-9]{1,3})|adb:[A-Za-z0-9._:-]{1,64})$/;

type Args<M extends ApiMethod> = Parameters<TandemApi[M]>;

function modelRef(c: Fields, v: unknown, path: string): string {
  const s = c.str(v, path, 200);
  const [kind, ...rest] = s.split(':');
  const ok =
    (rest.length === 0 && BUILTIN.test(s)) ||
    (kind === 'upload' && rest.length === 1 && SAFE_NAME.test(rest[0])) ||
    (kind === 'job' && rest.length === 1 && JOB_ID.test(rest[0])) ||
    (kind === 'candidate' && rest.length === 2 && /^[0-9]{1,9}$/.test(rest[0]) && /^c[0-9]{1,6}$/.test(rest[1]));
  if (!ok) c.fail(path, 'a built-in model name, upload:<file name>, job:<job id> or candidate:<run>:<candidate id>', v);
  return s;
}

const optInt = (c: Fields, o: Obj, key: string, lo: number, hi: number): number | undefined =>
  o[key] === undefined ? undefined : c.num(o[key], key, lo, hi, { int: true });

/** `LAYER=V,...` with layer ids as the IR has them and values matching `value`. */
const layerList = (value: string) => new RegExp(`^[A-Za-z0-9_.-]{1,64}=${value}(,[A-Za-z0-9_.-]{1,64}=${value}){0,255}$`);

function pattern(c: Fields, v: unknown, path: string, re: RegExp, want: string): string {
  if (typeof v !== 'string' || !re.test(v)) c.fail(path, want, v);
  return v;
}

function jobRequest(c: Fields, v: unknown): JobRequest {
  const kind = c.oneOf(c.obj(v, '(top level)', ['kind', ...Object.keys(v as Obj)]).kind, 'kind', ['compress', 'prune', 'quantize', 'compile', 'simulate', 'profile', 'codesign'] as const);
  const seedOf = (o: Obj) => optInt(c, o, 'seed', 0, 2 ** 31 - 1);
  switch (kind) {
    case 'compress': {
      const o = c.obj(v, '(top level)', ['kind', 'model', 'method', 'ranks', 'finetuneEpochs', 'trainLimit', 'evalLimit', 'seed']);
      return {
        kind,
        model: modelRef(c, o.model, 'model'),
        method: c.oneOf(o.method, 'method', ['svd', 'tucker2', 'cp'] as const),
        ranks: pattern(c, o.ranks, 'ranks', /^[A-Za-z0-9:=.,x_-]{1,400}$/, 'a rank rule as `tandem compress --ranks` takes (evbmf, ratio:2x, conv2=8,...)'),
        ...(o.finetuneEpochs === undefined ? {} : { finetuneEpochs: c.num(o.finetuneEpochs, 'finetuneEpochs', 0, 100) }),
        ...(o.trainLimit === undefined ? {} : { trainLimit: optInt(c, o, 'trainLimit', 1, 60000) }),
        ...(o.evalLimit === undefined ? {} : { evalLimit: optInt(c, o, 'evalLimit', 1, 10000) }),
        ...(o.seed === undefined ? {} : { seed: seedOf(o) }),
      };
    }
    case 'prune': {
      const o = c.obj(v, '(top level)', ['kind', 'model', 'target', 'keep', 'evalLimit', 'seed']);
      if ((o.target === undefined) === (o.keep === undefined)) c.fail('target', 'either target (whole network) or keep (per layer), not both', o.target ?? o.keep);
      return {
        kind,
        model: modelRef(c, o.model, 'model'),
        ...(o.target === undefined ? {} : { target: pattern(c, o.target, 'target', /^(params|macs)=[0-9.]{1,8}$/, 'params=F or macs=F (the fraction to keep)') }),
        ...(o.keep === undefined ? {} : { keep: pattern(c, o.keep, 'keep', layerList('[0-9.]{1,8}'), 'LAYER=F,... (the share of each layer\'s channels to keep)') }),
        ...(o.evalLimit === undefined ? {} : { evalLimit: optInt(c, o, 'evalLimit', 1, 10000) }),
        ...(o.seed === undefined ? {} : { seed: seedOf(o) }),
      };
    }
    case 'quantize': {
      const o = c.obj(v, '(top level)', ['kind', 'model', 'bits', 'layerBits', 'evalLimit', 'seed']);
      return {
        kind,
        model: modelRef(c, o.model, 'model'),
        bits: c.num(o.bits, 'bits', 2, 8, { int: true }),
        ...(o.layerBits === undefined ? {} : { layerBits: pattern(c, o.layerBits, 'layerBits', layerList('[2-8]'), 'LAYER=B,... (weight bits 2..8 per layer)') }),
        ...(o.evalLimit === undefined ? {} : { evalLimit: optInt(c, o, 'evalLimit', 1, 10000) }),
        ...(o.seed === undefined ? {} : { seed: seedOf(o) }),
      };
    }
    case 'compile': {
      const o = c.obj(v, '(top level)', ['kind', 'model', 'accel', 'calib']);
      return { kind, model: modelRef(c, o.model, 'model'), accel: pattern(c, o.accel, 'accel', ACCEL, 'an accelerator preset name'), ...(o.calib === undefined ? {} : { calib: optInt(c, o, 'calib', 1, 60000) }) };
    }
    case 'simulate': {
      const o = c.obj(v, '(top level)', ['kind', 'model', 'accel', 'mode', 'limit', 'drift', 'driftCompensation', 'set', 'seed', 'calib']);
      const set = o.set === undefined ? undefined : c.obj(o.set, 'set', Object.keys(o.set as Obj));
      if (set) {
        if (Object.keys(set).length > 32) c.fail('set', 'at most 32 spec overrides', Object.keys(set).length);
        for (const [k, val] of Object.entries(set)) {
          pattern(c, k, `set (key)`, SPEC_KEY, 'a spec field path such as adc.bits');
          pattern(c, val, `set.${k}`, SPEC_VALUE, 'a value without spaces, such as 6 or 1e-3');
        }
      }
      return {
        kind,
        model: modelRef(c, o.model, 'model'),
        accel: pattern(c, o.accel, 'accel', ACCEL, 'an accelerator preset name'),
        mode: c.oneOf(o.mode, 'mode', ['exact', 'analog'] as const),
        ...(o.limit === undefined ? {} : { limit: optInt(c, o, 'limit', 1, 10000) }),
        ...(o.drift === undefined ? {} : { drift: c.arr(o.drift, 'drift', 1, 16).map((d, i) => pattern(c, d, `drift[${i}]`, DURATION, 'a time such as 0, 1h, 1d, 1y')) }),
        ...(o.driftCompensation === undefined ? {} : { driftCompensation: c.bool(o.driftCompensation, 'driftCompensation') }),
        ...(set ? { set: set as Record<string, string> } : {}),
        ...(o.seed === undefined ? {} : { seed: seedOf(o) }),
        ...(o.calib === undefined ? {} : { calib: optInt(c, o, 'calib', 1, 60000) }),
      };
    }
    case 'profile': {
      const o = c.obj(v, '(top level)', ['kind', 'model', 'target', 'port', 'repeats', 'calib']);
      return {
        kind,
        model: modelRef(c, o.model, 'model'),
        target: pattern(c, o.target, 'target', TARGET, 'host, qemu, serial:<port> or adb:<serial>'),
        ...(o.port === undefined ? {} : { port: pattern(c, o.port, 'port', PORT, 'a serial device path such as /dev/ttyACM0') }),
        ...(o.repeats === undefined ? {} : { repeats: optInt(c, o, 'repeats', 1, 1000) }),
        ...(o.calib === undefined ? {} : { calib: optInt(c, o, 'calib', 1, 60000) }),
      };
    }
    case 'codesign': {
      const o = c.obj(v, '(top level)', ['kind', 'problem', 'candidates', 'minutes']);
      return {
        kind,
        problem: c.oneOf(o.problem, 'problem', ['default'] as const),
        ...(o.candidates === undefined ? {} : { candidates: optInt(c, o, 'candidates', 1, 1000) }),
        ...(o.minutes === undefined ? {} : { minutes: c.num(o.minutes, 'minutes', 0, 24 * 60, { openLo: true }) }),
      };
    }
  }
}

/** The checked arguments of `method`, or an ApiInputError. `payload` is the parsed JSON body / IPC argument. */
export function validateCall<M extends ApiMethod>(method: M, payload: unknown): Args<M> {
  if (!(API_METHODS as readonly string[]).includes(method)) throw new ApiInputError(`unknown API method ${JSON.stringify(String(method).slice(0, 60))}: expected one of ${API_METHODS.join(', ')}`);
  const c: Fields = new Fields(method, (m) => new ApiInputError(m));
  const p = payload ?? {};
  const jobId = (o: Obj) => pattern(c, o.jobId, 'jobId', JOB_ID, 'a job id such as j3-m1x2k');
  switch (method) {
    case 'project':
    case 'latencyDatasets':
    case 'ports':
      c.obj(p, '(top level)', []);
      return [] as unknown as Args<M>;
    case 'openModel': {
      const o = c.obj(p, '(top level)', ['model']);
      return [{ model: modelRef(c, o.model, 'model') }] as Args<M>;
    }
    case 'uploadModel': {
      const o = c.obj(p, '(top level)', ['name', 'base64']);
      const name = pattern(c, o.name, 'name', SAFE_NAME, 'a plain file name (letters, digits, . _ - and spaces; no folders, no leading dot, no ..)');
      if (!/\.onnx$/i.test(name)) c.fail('name', 'an .onnx file (a tfjs model is several files: open its folder with `tandem app --model`)', name);
      const b64 = o.base64;
      if (typeof b64 !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) c.fail('base64', 'the file as base64', typeof b64 === 'string' ? `${b64.length} characters, not base64` : b64);
      if (b64.length > MAX_BODY_BYTES) c.fail('base64', `at most ${MAX_BODY_BYTES} characters`, `${b64.length} characters`);
      return [{ name, base64: b64 }] as Args<M>;
    }
    case 'startJob':
      return [jobRequest(c, p)] as Args<M>;
    case 'cancelJob':
    case 'jobResult':
    case 'schedule':
      return [{ jobId: jobId(c.obj(p, '(top level)', ['jobId'])) }] as Args<M>;
    case 'latencyComparison': {
      const o = c.obj(p, '(top level)', ['dataset', 'model', 'profile']);
      // with a profile job the job's own model is compared: a dataset model as well would be ignored
      if (o.model !== undefined && o.profile !== undefined) c.fail('model', 'no model with profile (the profile job\'s model is compared)', o.model);
      return [
        {
          dataset: pattern(c, o.dataset, 'dataset', SAFE_NAME, 'a latency dataset name from latencyDatasets'),
          ...(o.model === undefined ? {} : { model: c.str(o.model, 'model', 200) }),
          ...(o.profile === undefined ? {} : { profile: pattern(c, o.profile, 'profile', JOB_ID, 'the id of a finished profile job, such as j3-m1x2k') }),
        },
      ] as Args<M>;
    }
    case 'boardInfo':
      return [{ port: pattern(c, c.obj(p, '(top level)', ['port']).port, 'port', PORT, 'a serial device path such as /dev/ttyACM0') }] as Args<M>;
    case 'codesignRun':
      return [{ run: c.num(c.obj(p, '(top level)', ['run']).run, 'run', 1, 2 ** 31 - 1, { int: true }) }] as Args<M>;
  }
  throw new ApiInputError(`${method}: no validator`);
}
