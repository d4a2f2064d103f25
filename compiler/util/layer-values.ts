// Per-layer values on the command line: `LAYER=V,LAYER=V` (e.g. `--keep conv1=0.5,conv3=0.25`,
// `--layer-bits conv1=4`). Layer ids are original layer ids (node origins).

/** One number per layer; `check` says what is wrong with a value (or nothing). Errors name the flag and the part. */
export function parseLayerValues(flag: string, spec: string, check: (v: number) => string | undefined): Map<string, number> {
  const out = new Map<string, number>();
  for (const raw of spec.split(',')) {
    const part = raw.trim();
    const m = /^([^=\s]+)\s*=\s*(\S+)$/.exec(part);
    if (!m) throw new Error(`${flag} '${spec}': '${part}' is not LAYER=VALUE (e.g. conv1=0.5)`);
    const v = Number(m[2]);
    const wrong = Number.isFinite(v) ? check(v) : 'not a number';
    if (wrong) throw new Error(`${flag} ${m[1]}=${m[2]}: ${wrong}`);
    if (out.has(m[1])) throw new Error(`${flag} '${spec}': layer ${m[1]} is given twice`);
    out.set(m[1], v);
  }
  return out;
}

export const formatLayerValues = (values: ReadonlyMap<string, number> | Readonly<Record<string, number>>): string =>
  (values instanceof Map ? [...values] : Object.entries(values)).map(([l, v]) => `${l}=${v}`).join(',');
