// The three reference models: exact ONNX and tfjs round trips, onnxruntime agreement, and their
// committed test metrics reproduced by `evaluate` on the real Fashion-MNIST test set.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { exportModel } from '../compiler/export/index.js';
import { exportOnnxBytes } from '../compiler/export/onnx.js';
import { importModel } from '../compiler/import/index.js';
import { allOf, classificationSet, denoisingSet, loadFashionMnist } from '../compiler/data/index.js';
import { printGraph } from '../compiler/ir/index.js';
import { RECIPES } from '../compiler/models/recipes.js';
import { REFERENCE_MODELS, type ReferenceName } from '../compiler/models/reference.js';
import { refsDir, resolveModel } from '../compiler/models/registry.js';
import { evaluate } from '../compiler/train/evaluate.js';
import { runGraph } from '../compiler/train/executor.js';
import { maxAbsDiff, nhwcToNchw } from './io-graphs.js';
import { runOrt } from './onnx-build.js';
import { fashionImages } from './helpers.js';

const NAMES = Object.keys(REFERENCE_MODELS) as ReferenceName[];
const trained = (n: ReferenceName) => existsSync(path.join(refsDir(), n, 'graph.json'));

const realImages = async (n: number): Promise<Float32Array> => (await fashionImages('test', n)).x;

for (const name of NAMES) {
  test(`${name}: ONNX and tfjs round trips give the same outputs (<= 1e-5), onnxruntime agrees (<= 1e-4)`, async (t) => {
    // Trained weights when committed, else the architecture's seeded initialisation.
    const { graph } = await resolveModel(name, { allowUntrained: true });
    const x = await realImages(32);
    const [ref] = await runGraph(graph, x, 32);
    const dir = await mkdtemp(path.join(tmpdir(), `tandem-${name}-`));
    for (const format of ['onnx', 'tfjs'] as const) {
      const out = path.join(dir, format === 'onnx' ? 'm.onnx' : 'tfjs');
      await exportModel(graph, format, out);
      const back = await importModel(out);
      assert.equal(printGraph(back), printGraph(graph), `${format} round trip keeps the graph`);
      const [y] = await runGraph(back, x, 32);
      const d = maxAbsDiff(y, ref);
      assert.ok(d <= 1e-5, `${format}: max |diff| ${d}`);
      t.diagnostic(`${format} round trip max |diff| ${d.toExponential(2)}`);
    }
    const feeds = { [graph.inputs[0].id]: { data: nhwcToNchw(x, 32, 28, 28, 1), dims: [32, 1, 28, 28] } };
    // With one channel, NCHW and NHWC images share one memory order, so outputs compare directly.
    const [y] = Object.values(await runOrt(exportOnnxBytes(graph), feeds, true));
    const d = maxAbsDiff(y, ref);
    assert.ok(d <= 1e-4, `onnxruntime: max |diff| ${d}`);
    t.diagnostic(`onnxruntime max |diff| ${d.toExponential(2)} (${trained(name) ? 'trained weights' : 'untrained architecture'})`);
  });
}

for (const name of NAMES) {
  test(`${name}: committed test metric is reproduced on the real test set`, { skip: trained(name) ? false : `refs/${name} is not trained yet` }, async () => {
    const m = await resolveModel(name);
    const meta = m.graph.meta as { test: Record<string, number>; seed: number };
    const fm = await loadFashionMnist();
    const test = allOf(fm.test);
    const recipe = RECIPES[name];
    const data = m.task === 'classification' ? classificationSet(test) : denoisingSet(test, { seed: meta.seed * 3 + 2, sigma: recipe.sigma });
    const q = await evaluate(m.graph, data, m.task);
    if (q.task === 'classification') {
      assert.equal(q.accuracy, meta.test.accuracy);
      if (name === 'fmnist-vgg') assert.ok(q.accuracy >= 0.93, `fmnist-vgg test accuracy ${q.accuracy}`);
    } else {
      assert.ok(Math.abs(q.psnrDenoised - meta.test.psnrDenoised) < 1e-9);
      assert.ok(q.psnrGain > 5, `PSNR gain ${q.psnrGain} dB`);
    }
  });
}
