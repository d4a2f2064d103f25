// Fashion-MNIST: find it (--data, $TANDEM_DATA, the Debian package, the cache, or a download), verify
// every file's SHA-256, and return raw uint8 images + labels.
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import type { ProgressFn } from '../util/progress.js';
import { throwIfAborted } from '../util/progress.js';
import { fetchBytes, FetchError } from './download.js';
import { DataError } from './errors.js';
import { gunzipBytes, parseIdx, readIdxBytes } from './idx.js';
import type { IdxExpect } from './idx.js';
import type { LabeledImages } from './images.js';

export type FashionMnistFile = 'trainImages' | 'trainLabels' | 'testImages' | 'testLabels';

interface FileSpec {
  readonly name: string;
  readonly expect: IdxExpect;
  /** SHA-256 of the decompressed IDX bytes. */
  readonly sha256: string;
}

/**
 * Hashes are of the decompressed IDX bytes, not the .gz: Debian's package recompresses the archives (so
 * the published .gz MD5s do not match it) while the IDX content is byte-identical to the official one.
 * These equal the Debian files' and the raw hashes other projects publish for the official download.
 */
export const FASHION_MNIST_FILES: Readonly<Record<FashionMnistFile, FileSpec>> = {
  trainImages: {
    name: 'train-images-idx3-ubyte',
    expect: { dtype: 'ubyte', rank: 3, dims: [60000, 28, 28] },
    sha256: 'c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888',
  },
  trainLabels: {
    name: 'train-labels-idx1-ubyte',
    expect: { dtype: 'ubyte', rank: 1, dims: [60000] },
    sha256: 'bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9',
  },
  testImages: {
    name: 't10k-images-idx3-ubyte',
    expect: { dtype: 'ubyte', rank: 3, dims: [10000, 28, 28] },
    sha256: '5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b',
  },
  testLabels: {
    name: 't10k-labels-idx1-ubyte',
    expect: { dtype: 'ubyte', rank: 1, dims: [10000] },
    sha256: '0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34',
  },
};

const FILE_KEYS = Object.keys(FASHION_MNIST_FILES) as FashionMnistFile[];

/** Official source (zalandoresearch/fashion-mnist README); the S3 website endpoint is http only. */
export const FASHION_MNIST_URL = 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/';
export const DEBIAN_DATA_DIR = '/usr/share/datasets/fashion-mnist';
export const FASHION_MNIST_CLASSES = [
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
] as const;
/** The largest official .gz is 26.4 MB. */
const MAX_DOWNLOAD_BYTES = 64 * 1024 * 1024;

export interface FashionMnist {
  readonly train: LabeledImages;
  /** The official t10k set. */
  readonly test: LabeledImages;
  readonly sourceDir: string;
  readonly files: Readonly<Record<FashionMnistFile, { readonly path: string; readonly sha256: string }>>;
}

export interface LoadFashionMnistOptions {
  /** CLI --data DIR; searched first. */
  readonly dataDir?: string;
  /** Fetch missing files from `baseUrl` into `cacheDir`. Default false. */
  readonly download?: boolean;
  readonly signal?: AbortSignal;
  readonly onProgress?: ProgressFn;
  /** Where $TANDEM_DATA and $XDG_CACHE_HOME are read. Default process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** System-wide directories. Default [DEBIAN_DATA_DIR]. */
  readonly systemDirs?: readonly string[];
  /** Download cache. Default $XDG_CACHE_HOME/tandem/fashion-mnist or ~/.cache/tandem/fashion-mnist. */
  readonly cacheDir?: string;
  readonly baseUrl?: string;
}

export function defaultCacheDir(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const base = env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'tandem', 'fashion-mnist');
}

interface Place {
  readonly label: string;
  readonly dir?: string;
}

type Found = { readonly ok: true; readonly paths: Record<FashionMnistFile, string> } | { readonly ok: false; readonly why: string };

/** Each file as NAME.gz or plain NAME. */
async function findFiles(dir: string): Promise<Found> {
  try {
    if (!(await fs.stat(dir)).isDirectory()) return { ok: false, why: 'not a directory' };
  } catch {
    return { ok: false, why: 'does not exist' };
  }
  const paths: Partial<Record<FashionMnistFile, string>> = {};
  const missing: string[] = [];
  for (const key of FILE_KEYS) {
    const name = FASHION_MNIST_FILES[key].name;
    for (const candidate of [`${name}.gz`, name]) {
      const p = path.join(dir, candidate);
      if (await isFile(p)) {
        paths[key] = p;
        break;
      }
    }
    if (!paths[key]) missing.push(`${name}[.gz]`);
  }
  if (missing.length > 0) return { ok: false, why: `missing ${missing.join(', ')}` };
  return { ok: true, paths: paths as Record<FashionMnistFile, string> };
}

async function isFile(p: string): Promise<boolean> {
  try {
    return (await fs.stat(p)).isFile();
  } catch {
    return false;
  }
}

const sha256Hex = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** Structure first (clearer messages for truncated files), then identity. */
function checkIdx(bytes: Uint8Array, key: FashionMnistFile, where: string): Uint8Array {
  const spec = FASHION_MNIST_FILES[key];
  const idx = parseIdx(bytes, where, spec.expect);
  const actual = sha256Hex(bytes);
  if (actual !== spec.sha256) {
    throw new DataError(`${where}: SHA-256 of the IDX data is ${actual}, expected ${spec.sha256} (official Fashion-MNIST ${spec.name})`);
  }
  return idx.data as Uint8Array;
}

async function loadDir(dir: string, paths: Record<FashionMnistFile, string>, opts: LoadFashionMnistOptions): Promise<FashionMnist> {
  let done = 0;
  const load = async (key: FashionMnistFile): Promise<Uint8Array> => {
    throwIfAborted(opts.signal);
    const bytes = checkIdx(await readIdxBytes(paths[key]), key, paths[key]);
    opts.onProgress?.({ phase: 'load', done: ++done, total: FILE_KEYS.length, message: path.basename(paths[key]) });
    return bytes;
  };
  const set = (pixels: Uint8Array, labels: Uint8Array): LabeledImages => ({
    n: labels.length, height: 28, width: 28, channels: 1, pixels, labels, numClasses: 10,
  });
  // One file at a time keeps peak memory near one decompressed file plus the results; smallest first
  // so a broken small file fails fast.
  const trainLabels = await load('trainLabels');
  const testLabels = await load('testLabels');
  const test = set(await load('testImages'), testLabels);
  const train = set(await load('trainImages'), trainLabels);
  const files = Object.fromEntries(FILE_KEYS.map((k) => [k, { path: paths[k], sha256: FASHION_MNIST_FILES[k].sha256 }]));
  return { train, test, sourceDir: dir, files: files as FashionMnist['files'] };
}

/** Downloads the files the cache lacks; each is written (atomically) only after its hash matches. */
async function downloadInto(cacheDir: string, baseUrl: string, opts: LoadFashionMnistOptions): Promise<void> {
  for (const key of FILE_KEYS) {
    const name = FASHION_MNIST_FILES[key].name;
    if ((await isFile(path.join(cacheDir, `${name}.gz`))) || (await isFile(path.join(cacheDir, name)))) continue;
    const url = new URL(`${name}.gz`, baseUrl).href;
    const gz = await fetchBytes(url, { signal: opts.signal, onProgress: opts.onProgress, maxBytes: MAX_DOWNLOAD_BYTES, label: `${name}.gz` });
    checkIdx(await gunzipBytes(gz, url), key, url);
    throwIfAborted(opts.signal);
    await writeFileAtomic(path.join(cacheDir, `${name}.gz`), gz);
  }
}

/**
 * Loads Fashion-MNIST from the first place that has all four files: opts.dataDir, $TANDEM_DATA, the
 * system dirs (Debian's dataset-fashion-mnist), the cache; else downloads into the cache when allowed.
 * A place that has the files but fails a check is an error, never silently skipped.
 */
export async function loadFashionMnist(opts: LoadFashionMnistOptions = {}): Promise<FashionMnist> {
  const env = opts.env ?? process.env;
  const cacheDir = opts.cacheDir ?? defaultCacheDir(env);
  const baseUrl = opts.baseUrl ?? FASHION_MNIST_URL;
  const places: Place[] = [
    opts.dataDir !== undefined ? { label: `--data ${opts.dataDir}`, dir: opts.dataDir } : { label: '--data: not given' },
    env.TANDEM_DATA ? { label: `$TANDEM_DATA=${env.TANDEM_DATA}`, dir: env.TANDEM_DATA } : { label: '$TANDEM_DATA: not set' },
    ...(opts.systemDirs ?? [DEBIAN_DATA_DIR]).map((dir) => ({ label: dir === DEBIAN_DATA_DIR ? `${dir} (Debian package dataset-fashion-mnist)` : dir, dir })),
    { label: `${cacheDir} (download cache)`, dir: cacheDir },
  ];
  const looked: string[] = [];
  for (const place of places) {
    throwIfAborted(opts.signal);
    if (place.dir === undefined) {
      looked.push(place.label);
      continue;
    }
    const found = await findFiles(place.dir);
    if (found.ok) return loadDir(place.dir, found.paths, opts);
    looked.push(`${place.label}: ${found.why}`);
  }

  if (opts.download) {
    try {
      await downloadInto(cacheDir, baseUrl, opts);
    } catch (e) {
      if (!(e instanceof FetchError)) throw e;
      looked.push(`download from ${baseUrl}: failed: ${e.message}`);
    }
    const found = await findFiles(cacheDir);
    if (found.ok) return loadDir(cacheDir, found.paths, opts);
  } else {
    looked.push(`download from ${baseUrl}: not allowed`);
  }
  throw new DataError(notFoundMessage(looked, cacheDir, baseUrl));
}

function notFoundMessage(looked: readonly string[], cacheDir: string, baseUrl: string): string {
  const names = FILE_KEYS.map((k) => `${FASHION_MNIST_FILES[k].name}.gz`).join(', ');
  return [
    'Fashion-MNIST not found. Looked in:',
    ...looked.map((l) => `  ${l}`),
    'To get it, do one of:',
    '  sudo apt-get install -y dataset-fashion-mnist',
    `  pass --data DIR or set TANDEM_DATA=DIR, DIR holding ${names}`,
    `  allow the download (tandem does unless --no-download; library: download: true) from ${baseUrl} into ${cacheDir}`,
  ].join('\n');
}
