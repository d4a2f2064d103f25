// The data module on the real Fashion-MNIST (Debian's dataset-fashion-mnist) and on broken copies of it.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as zlib from 'node:zlib';
import { batches, epochOrder } from '../compiler/data/batches.js';
import type { FashionMnist, LoadFashionMnistOptions } from '../compiler/data/fashion-mnist.js';
import { DEBIAN_DATA_DIR, FASHION_MNIST_FILES, loadFashionMnist } from '../compiler/data/fashion-mnist.js';
import { parseIdx, readIdxFile } from '../compiler/data/idx.js';
import type { LabeledImages } from '../compiler/data/images.js';
import { imagesToFloat } from '../compiler/data/images.js';
import { addGaussianNoise, DNCNN_SIGMA } from '../compiler/data/noise.js';
import { allOf, splitTrainVal } from '../compiler/data/split.js';
import type { ProgressEvent } from '../compiler/util/progress.js';

const NAMES = Object.values(FASHION_MNIST_FILES).map((f) => f.name);
const real = (name: string): string => path.join(DEBIAN_DATA_DIR, `${name}.gz`);

let tmp = '';
before(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'tandem-data-'));
});
after(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

let dirCount = 0;
async function freshDir(): Promise<string> {
  const dir = path.join(tmp, `d${dirCount++}`);
  await fs.mkdir(dir);
  return dir;
}

/** A temp dir with the four real files linked in, except those in `skip`. */
async function linkedCopy(skip: readonly string[] = []): Promise<string> {
  const dir = await freshDir();
  for (const name of NAMES) if (!skip.includes(name)) await fs.symlink(real(name), path.join(dir, `${name}.gz`));
  return dir;
}

/** Options that search only `dataDir`, never the user's env, cache or the network. */
function only(dataDir: string, cacheDir: string, extra: Partial<LoadFashionMnistOptions> = {}): LoadFashionMnistOptions {
  return { dataDir, env: {}, systemDirs: [], cacheDir, download: false, ...extra };
}

const listing = async (dir: string): Promise<string[]> => (await fs.readdir(dir)).sort();
const exists = async (p: string): Promise<boolean> => fs.stat(p).then(() => true, () => false);
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

function idxBytes(magic: number, dims: readonly number[], data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, magic);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

function histogram(labels: Uint8Array): number[] {
  const h = new Array<number>(10).fill(0);
  for (const l of labels) h[l]++;
  return h;
}

let loaded: Promise<FashionMnist> | undefined;
/** The real data set, loaded once for the tests that only read it. */
const realData = (): Promise<FashionMnist> =>
  (loaded ??= loadFashionMnist({ env: {}, systemDirs: [DEBIAN_DATA_DIR], cacheDir: path.join(tmp, 'unused-cache'), download: false }));

describe('Fashion-MNIST from the Debian package', () => {
  it('has 60000/10000 images, 6000/1000 per class, and known pixel sums', async () => {
    const d = await realData();
    assert.equal(d.sourceDir, DEBIAN_DATA_DIR);
    assert.equal(d.train.n, 60000);
    assert.equal(d.test.n, 10000);
    assert.equal(d.train.pixels.length, 60000 * 28 * 28);
    assert.equal(d.test.pixels.length, 10000 * 28 * 28);
    assert.deepEqual(histogram(d.train.labels), new Array(10).fill(6000));
    assert.deepEqual(histogram(d.test.labels), new Array(10).fill(1000));
    assert.deepEqual([...d.train.labels.subarray(0, 10)], [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]);
    assert.deepEqual([...d.test.labels.subarray(0, 10)], [9, 2, 1, 1, 6, 1, 4, 6, 5, 7]);
    const sumOf = (a: Uint8Array): number => {
      let s = 0;
      for (let i = 0; i < a.length; i++) s += a[i];
      return s;
    };
    assert.equal(sumOf(d.train.pixels), 3431114169); // mean 72.94 = 0.2860 × 255, the well-known Fashion-MNIST mean
    assert.equal(sumOf(d.test.pixels), 573469082);
    assert.equal(d.files.trainImages.path, real('train-images-idx3-ubyte'));
    assert.equal(d.files.testLabels.sha256, '0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34');
    assert.equal(await exists(path.join(tmp, 'unused-cache')), false);
  });

  it('converts a batch to float32 NHWC in [0, 1]', async () => {
    const d = await realData();
    const x = imagesToFloat(d.train, [0, 59999]);
    assert.equal(x.length, 2 * 784);
    let bytes = 0;
    let floats = 0;
    for (let p = 0; p < 784; p++) bytes += d.train.pixels[p] + d.train.pixels[59999 * 784 + p];
    for (const v of x) {
      assert.ok(v >= 0 && v <= 1);
      floats += v;
    }
    assert.ok(Math.abs(floats - bytes / 255) < 1e-3);
    assert.equal(x[784 + 783], Math.fround(d.train.pixels[59999 * 784 + 783] / 255));
  });
});

describe('IDX and file errors (exact messages, nothing written)', () => {
  it('bad magic', async () => {
    const dir = await freshDir();
    const file = path.join(dir, 'x-idx3-ubyte');
    await fs.writeFile(file, idxBytes(0x00000801, [2], Uint8Array.from([1, 2])));
    await assert.rejects(readIdxFile(file, { dtype: 'ubyte', rank: 3 }), {
      name: 'DataError',
      message: `${file}: bad magic 0x00000801, expected 0x00000803 (idx3 ubyte)`,
    });
    assert.throws(() => parseIdx(Uint8Array.from([1, 2, 8, 1, 0, 0, 0, 0]), 'f'), {
      message: 'f: bad magic 0x01020801, expected 0x0000TTRR (two zero bytes, type byte, rank byte)',
    });
  });

  it('reads big-endian multi-byte types', () => {
    const bytes = idxBytes(0x00000c02, [2, 1], Uint8Array.from([0xff, 0xff, 0xff, 0xfe, 0, 0, 1, 0]));
    const idx = parseIdx(bytes, 'f');
    assert.deepEqual(idx.dims, [2, 1]);
    assert.deepEqual([...idx.data], [-2, 256]);
    assert.throws(() => parseIdx(bytes.subarray(0, 14), 'f'), {
      message: 'f: header says 2×1 = 2 int values × 4 = 8 bytes of data, file holds 2',
    });
  });

  it('truncated IDX data inside a valid gzip', async () => {
    const dir = await linkedCopy(['t10k-images-idx3-ubyte']);
    const cache = path.join(tmp, 'cache-truncated');
    const full = zlib.gunzipSync(await fs.readFile(real('t10k-images-idx3-ubyte')));
    const file = path.join(dir, 't10k-images-idx3-ubyte.gz');
    await fs.writeFile(file, zlib.gzipSync(full.subarray(0, 16 + 12345)));
    const before = await listing(dir);
    await assert.rejects(loadFashionMnist(only(dir, cache)), {
      name: 'DataError',
      message: `${file}: header says 10000×28×28 = 7840000 bytes of data, file holds 12345`,
    });
    assert.deepEqual(await listing(dir), before);
    assert.equal(await exists(cache), false);
  });

  it('truncated and corrupt gzip', async () => {
    const dir = await linkedCopy(['t10k-labels-idx1-ubyte']);
    const cache = path.join(tmp, 'cache-gzip');
    const gz = await fs.readFile(real('t10k-labels-idx1-ubyte'));
    const file = path.join(dir, 't10k-labels-idx1-ubyte.gz');
    await fs.writeFile(file, gz.subarray(0, gz.length >> 1));
    await assert.rejects(loadFashionMnist(only(dir, cache)), { message: `${file}: truncated gzip (unexpected end of file)` });
    const badCrc = Buffer.from(gz);
    badCrc[badCrc.length - 8] ^= 0xff; // the CRC-32 in the gzip trailer
    await fs.writeFile(file, badCrc);
    await assert.rejects(loadFashionMnist(only(dir, cache)), { message: `${file}: corrupt gzip (incorrect data check)` });
    await fs.writeFile(file, 'not gzip at all');
    await assert.rejects(loadFashionMnist(only(dir, cache)), { message: `${file}: corrupt gzip (incorrect header check)` });
    assert.deepEqual(await listing(dir), NAMES.map((n) => `${n}.gz`).sort());
    assert.equal(await exists(cache), false);
  });

  it('wrong SHA-256 (one label changed, still a valid IDX file)', async () => {
    const dir = await linkedCopy(['t10k-labels-idx1-ubyte']);
    const cache = path.join(tmp, 'cache-sha');
    const labels = zlib.gunzipSync(await fs.readFile(real('t10k-labels-idx1-ubyte')));
    labels[8] = labels[8] === 0 ? 1 : 0;
    const file = path.join(dir, 't10k-labels-idx1-ubyte'); // plain files are accepted too
    await fs.writeFile(file, labels);
    await assert.rejects(loadFashionMnist(only(dir, cache)), {
      name: 'DataError',
      message:
        `${file}: SHA-256 of the IDX data is ${sha256(labels)}, ` +
        'expected 0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34 (official Fashion-MNIST t10k-labels-idx1-ubyte)',
    });
    assert.equal(await exists(cache), false);
  });

  it('missing files: one message listing every place looked and how to install', async () => {
    const dir = await linkedCopy(['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte']);
    const envDir = path.join(tmp, 'no-such-env-dir');
    const sysDir = path.join(tmp, 'no-such-system-dir');
    const cache = path.join(tmp, 'cache-missing');
    const opts = { dataDir: dir, env: { TANDEM_DATA: envDir }, systemDirs: [sysDir], cacheDir: cache, download: false };
    await assert.rejects(loadFashionMnist(opts), {
      name: 'DataError',
      message: [
        'Fashion-MNIST not found. Looked in:',
        `  --data ${dir}: missing t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz]`,
        `  $TANDEM_DATA=${envDir}: does not exist`,
        `  ${sysDir}: does not exist`,
        `  ${cache} (download cache): does not exist`,
        '  download from http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/: not allowed',
        'To get it, do one of:',
        '  sudo apt-get install -y dataset-fashion-mnist',
        '  pass --data DIR or set TANDEM_DATA=DIR, DIR holding train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, ' +
          't10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz',
        `  allow the download (tandem does unless --no-download; library: download: true) from http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/ into ${cache}`,
      ].join('\n'),
    });
    await assert.rejects(loadFashionMnist({ env: {}, systemDirs: [], cacheDir: cache }), (e: Error) =>
      e.message.includes('  --data: not given\n  $TANDEM_DATA: not set\n'),
    );
    assert.equal(await exists(cache), false);
  });
});

describe('download into the cache (local HTTP server, no internet)', () => {
  /** Serves `files` (name -> bytes) until closed; counts requests. */
  async function serve(files: Map<string, Uint8Array>): Promise<{ url: string; requests: string[]; close: () => Promise<void> }> {
    const requests: string[] = [];
    const server = http.createServer((req, res) => {
      const name = (req.url ?? '').slice(1);
      requests.push(name);
      const body = files.get(name);
      if (!body) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-length': body.length }).end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}/`, requests, close: () => new Promise((r) => server.close(() => r())) };
  }

  it('downloads verified files atomically, then finds them without the network', async () => {
    const files = new Map<string, Uint8Array>();
    for (const n of NAMES) files.set(`${n}.gz`, await fs.readFile(real(n)));
    const srv = await serve(files);
    const cache = path.join(tmp, 'cache-download');
    const events: ProgressEvent[] = [];
    try {
      const d = await loadFashionMnist({ env: {}, systemDirs: [], cacheDir: cache, download: true, baseUrl: srv.url, onProgress: (e) => events.push(e) });
      assert.equal(d.sourceDir, cache);
      assert.equal(d.test.n, 10000);
    } finally {
      await srv.close();
    }
    assert.deepEqual(srv.requests.sort(), [...files.keys()].sort());
    assert.deepEqual(await listing(cache), [...files.keys()].sort()); // no temp files left
    for (const [name, body] of files) assert.deepEqual(await fs.readFile(path.join(cache, name)), Buffer.from(body));
    const last = events.filter((e) => e.phase === 'download' && e.message === 'train-images-idx3-ubyte.gz').at(-1);
    assert.deepEqual(last, { phase: 'download', done: 26421856, total: 26421856, message: 'train-images-idx3-ubyte.gz' });
    assert.deepEqual(events.at(-1), { phase: 'load', done: 4, total: 4, message: 'train-images-idx3-ubyte.gz' });

    // $TANDEM_DATA comes before the system dir; the server is closed, so this reads the cache only.
    const again = await loadFashionMnist({ env: { TANDEM_DATA: cache }, systemDirs: [DEBIAN_DATA_DIR], cacheDir: path.join(tmp, 'x'), download: true, baseUrl: srv.url });
    assert.equal(again.sourceDir, cache);
  });

  it('does not save a download whose SHA-256 is wrong', async () => {
    const cache = await linkedCopy(['t10k-labels-idx1-ubyte']);
    const labels = zlib.gunzipSync(await fs.readFile(real('t10k-labels-idx1-ubyte')));
    labels[100] ^= 1;
    const srv = await serve(new Map([['t10k-labels-idx1-ubyte.gz', zlib.gzipSync(labels)]]));
    try {
      await assert.rejects(loadFashionMnist({ env: {}, systemDirs: [], cacheDir: cache, download: true, baseUrl: srv.url }), {
        name: 'DataError',
        message:
          `${srv.url}t10k-labels-idx1-ubyte.gz: SHA-256 of the IDX data is ${sha256(labels)}, ` +
          'expected 0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34 (official Fashion-MNIST t10k-labels-idx1-ubyte)',
      });
    } finally {
      await srv.close();
    }
    assert.deepEqual(srv.requests, ['t10k-labels-idx1-ubyte.gz']);
    assert.deepEqual(await listing(cache), ['t10k-images-idx3-ubyte.gz', 'train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz']);
  });

  it('offline: the not-found message says why the download failed', async () => {
    const srv = await serve(new Map());
    await srv.close(); // a port nobody listens on
    const cache = path.join(tmp, 'cache-offline');
    await assert.rejects(loadFashionMnist({ env: {}, systemDirs: [], cacheDir: cache, download: true, baseUrl: srv.url }), (e: Error) => {
      const port = new URL(srv.url).port;
      assert.ok(
        e.message.includes(`\n  download from ${srv.url}: failed: ${srv.url}train-images-idx3-ubyte.gz: fetch failed (connect ECONNREFUSED 127.0.0.1:${port})\n`),
        e.message,
      );
      return true;
    });
    assert.equal(await exists(cache), false);
  });

  it('cancels before touching anything when the signal is aborted', async () => {
    const cache = path.join(tmp, 'cache-abort');
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(loadFashionMnist({ env: {}, systemDirs: [DEBIAN_DATA_DIR], cacheDir: cache, download: true, signal: ac.signal }), {
      name: 'AbortError',
    });
    assert.equal(await exists(cache), false);
  });
});

/** A small synthetic set: image i is filled with i % 256, label i % 10. */
function synthetic(n: number): LabeledImages {
  const pixels = new Uint8Array(n * 4);
  for (let i = 0; i < n; i++) pixels.fill(i % 256, i * 4, i * 4 + 4);
  return { n, height: 2, width: 2, channels: 1, pixels, labels: Uint8Array.from({ length: n }, (_, i) => i % 10), numClasses: 10 };
}

describe('splits and batches', () => {
  it('splits the real train set 50000/10000, fixed by seed', async () => {
    const d = await realData();
    const a = splitTrainVal(d.train, { seed: 42 });
    const b = splitTrainVal(d.train, { seed: 42 });
    const c = splitTrainVal(d.train, { seed: 43 });
    assert.equal(a.train.indices.length, 50000);
    assert.equal(a.val.indices.length, 10000);
    assert.deepEqual(a.val.indices, b.val.indices);
    assert.deepEqual(a.train.indices, b.train.indices);
    assert.notDeepEqual(a.val.indices, c.val.indices);
    const seen = new Uint8Array(60000);
    for (const i of a.train.indices) seen[i]++;
    for (const i of a.val.indices) seen[i]++;
    assert.ok(seen.every((v) => v === 1), 'no overlap, union = all');
    assert.deepEqual(allOf(d.test).indices.length, 10000);
  });

  it('honours valFraction and rejects bad ones', () => {
    const s = splitTrainVal(synthetic(10), { valFraction: 0.3, seed: 1 });
    assert.equal(s.val.indices.length, 3);
    assert.equal(s.train.indices.length, 7);
    assert.throws(() => splitTrainVal(synthetic(10), { valFraction: 1.5, seed: 1 }), { message: 'valFraction 1.5 is not in [0, 1]' });
  });

  it('yields each row once per epoch in a seeded, per-epoch order', () => {
    const data = synthetic(25);
    const subset = allOf(data);
    const run = (seed: number, epoch: number) => [...batches(subset, { batchSize: 10, seed, epoch })];
    const e0 = run(7, 0);
    assert.deepEqual(e0.map((b) => b.n), [10, 10, 5]);
    assert.deepEqual(run(7, 0), e0);
    const order0 = e0.flatMap((b) => [...b.indices]);
    assert.deepEqual([...order0].sort((p, q) => p - q), [...subset.indices]);
    assert.notDeepEqual(run(7, 1).flatMap((b) => [...b.indices]), order0);
    assert.notDeepEqual(run(8, 0).flatMap((b) => [...b.indices]), order0);
    assert.deepEqual([...epochOrder(subset, 7, 0)], order0);
    for (const b of e0) {
      b.indices.forEach((i, k) => {
        assert.equal(b.y[k], i % 10);
        assert.equal(b.x[k * 4], Math.fround(i / 255));
      });
    }
    assert.deepEqual([...batches(subset, { batchSize: 10, seed: 7, dropLast: true })].map((b) => b.n), [10, 10]);
    assert.deepEqual([...batches(subset, { batchSize: 25, seed: 7, shuffle: false })][0].indices, subset.indices);
  });
});

describe('Gaussian noise for denoising', () => {
  it('is deterministic per seed, unclipped, with σ = 25/255', () => {
    const clean = new Float32Array(100 * 784); // zeros: the noise is the output
    const a = addGaussianNoise(clean, { seed: 3 });
    assert.deepEqual(addGaussianNoise(clean, { seed: 3 }), a);
    assert.notDeepEqual(addGaussianNoise(clean, { seed: 4 }), a);
    let s = 0;
    let ss = 0;
    let negative = 0;
    for (const v of a) {
      s += v;
      ss += v * v;
      if (v < 0) negative++;
    }
    const mean = s / a.length;
    const std = Math.sqrt(ss / a.length - mean * mean);
    assert.ok(Math.abs(mean) < 4 * (DNCNN_SIGMA / Math.sqrt(a.length)), `mean ${mean}`);
    assert.ok(Math.abs(std / DNCNN_SIGMA - 1) < 0.01, `std ${std}`);
    assert.ok(negative > 0.45 * a.length, 'not clipped at 0');
    const ones = addGaussianNoise(new Float32Array(4).fill(1), { seed: 3, sigma: 0.5 });
    ones.forEach((v, i) => assert.ok(Math.abs(v - (1 + a[i] * (0.5 / DNCNN_SIGMA))) < 1e-6)); // same draws, scaled
  });
});
