// The installed d3's minified UMD bundle, for inlining into the HTML report (which must open from disk with
// no network). d3 7's `exports` map exposes only "." (src/index.js) and the "umd" condition, so
// 'd3/package.json' and 'd3/dist/d3.min.js' cannot be resolved directly: resolve 'd3' and walk up to the
// package root instead.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';

export interface D3Bundle {
  /** The package.json version of the installed d3. */
  readonly version: string;
  /** dist/d3.min.js, verbatim. */
  readonly source: string;
}

let cached: D3Bundle | undefined;

/** The folder of the installed d3 package (the one whose package.json is named "d3"). */
function d3Root(): string {
  const entry = createRequire(import.meta.url).resolve('d3');
  for (let dir = path.dirname(entry); ; dir = path.dirname(dir)) {
    const pkg = path.join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'd3') return dir;
    if (path.dirname(dir) === dir) throw new Error(`no d3 package.json above ${entry}`);
  }
}

/** Read once per process: the bundle is ~280 kB and identical for every report. */
export function d3Bundle(): D3Bundle {
  if (cached) return cached;
  const root = d3Root();
  const { version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };
  const source = readFileSync(path.join(root, 'dist', 'd3.min.js'), 'utf8');
  // Inlined verbatim into a <script>: these would end it early (or enter the "double-escaped" state) and
  // cannot be escaped in code outside string literals. d3 7.9.0 has none; a future version must be checked.
  if (/<\/script|<!--/i.test(source)) throw new Error(`d3 ${version}'s bundle contains "</script" or "<!--"; it cannot be inlined`);
  cached = { version, source };
  return cached;
}
