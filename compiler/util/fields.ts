// Checks of untrusted JSON-like input field by field: every failure names the source, the field's path,
// what was expected and what came. Used by the co-design problem reader and the app's API.

export type Obj = Record<string, unknown>;

export class Fields {
  constructor(
    readonly source: string,
    private readonly makeError: (message: string) => Error = (m) => new Error(m),
  ) {}
  fail(path: string, want: string, got: unknown): never {
    const shown = got === undefined ? 'missing' : JSON.stringify(got)?.slice(0, 80);
    throw this.makeError(`${this.source}: field ${path}: expected ${want}, got ${shown}`);
  }
  obj(v: unknown, path: string, allowed: readonly string[]): Obj {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(path, 'an object', v);
    for (const k of Object.keys(v)) if (!allowed.includes(k)) this.fail(`${path === '(top level)' ? '' : path + '.'}${k}`, `one of the fields ${allowed.join(', ')} (unknown field)`, k);
    return v as Obj;
  }
  str(v: unknown, path: string, maxLength = Infinity): string {
    if (typeof v !== 'string' || !v.trim() || v.length > maxLength) this.fail(path, `a non-empty string${Number.isFinite(maxLength) ? ` of at most ${maxLength} characters` : ''}`, v);
    return v;
  }
  num(v: unknown, path: string, lo: number, hi: number, o: { int?: boolean; openLo?: boolean } = {}): number {
    const ok = typeof v === 'number' && Number.isFinite(v) && (o.openLo ? v > lo : v >= lo) && v <= hi && (!o.int || Number.isInteger(v));
    if (!ok) this.fail(path, `${o.int ? 'an integer' : 'a number'} in ${o.openLo ? '(' : '['}${lo}, ${hi}]`, v);
    return v as number;
  }
  oneOf<T extends string>(v: unknown, path: string, values: readonly T[]): T {
    if (typeof v !== 'string' || !values.includes(v as T)) this.fail(path, `one of ${values.join(', ')}`, v);
    return v as T;
  }
  bool(v: unknown, path: string): boolean {
    if (typeof v !== 'boolean') this.fail(path, 'true or false', v);
    return v;
  }
  arr(v: unknown, path: string, min = 0, max = Infinity): unknown[] {
    if (!Array.isArray(v) || v.length < min || v.length > max) this.fail(path, min ? `a list of at least ${min}` : Number.isFinite(max) ? `a list of at most ${max}` : 'a list', v);
    return v;
  }
}
