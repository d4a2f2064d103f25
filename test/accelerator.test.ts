// The accelerator hook in the engine's forward pass, with the built-in row-group ADC model.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { allOf, classificationSet, loadFashionMnist } from '../compiler/data/index.js';
import { GraphBuilder } from '../compiler/ir/builder.js';
import { resolveModel } from '../compiler/models/registry.js';
import { type AcceleratorSpec, checkAcceleratorSpec } from '../compiler/train/accelerator.js';
import { evaluate } from '../compiler/train/evaluate.js';
import { type TrainConfig, train } from '../compiler/train/trainer.js';

async function testSet(n: number) {
  const fm = await loadFashionMnist();
  const all = allOf(fm.test);
  return classificationSet({ data: fm.test, indices: all.indices.subarray(0, n) });
}

const adc = (rows: number, adcBits: number, noise: number): AcceleratorSpec => ({ kind: 'row-group-adc', rows, adcBits, noise, seed: 5 });

test('row-group ADC model: 16-bit noiseless ADCs keep fmnist-vgg accuracy, 3-bit noisy ones break it, seeded runs repeat', async () => {
  const { graph } = await resolveModel('fmnist-vgg');
  const data = await testSet(200);
  const acc = async (a?: AcceleratorSpec) => ((await evaluate(graph, data, 'classification', { workers: 0, accelerator: a })) as { accuracy: number }).accuracy;
  const ideal = await acc();
  const fine = await acc(adc(64, 16, 0));
  const coarse = await acc(adc(64, 3, 0.2));
  assert.ok(Math.abs(fine - ideal) <= 1 / 200, `ideal ${ideal}, 16-bit ADC ${fine}`);
  assert.ok(coarse < ideal - 0.1, `3-bit noisy ADC ${coarse} vs ideal ${ideal}`);
  assert.equal(await acc(adc(64, 3, 0.2)), coarse);
  await assert.rejects(evaluate(graph, data, 'classification', { workers: 0, accelerator: adc(0, 8, 0) }), { message: 'accelerator rows 0: expected an integer >= 1' });
});

test('training through the ADC model (straight-through gradients) lowers the loss it sees', async () => {
  const b = new GraphBuilder('adc', 5);
  let h = b.input('image', [28, 28, 1]);
  h = b.relu(b.conv2d(h, { id: 'c1', filters: 16, kernel: 3, strides: 2, padding: 'same' }), { id: 'r1' });
  h = b.relu(b.conv2d(h, { id: 'c2', filters: 16, kernel: 3, strides: 2, padding: 'same' }), { id: 'r2' });
  const graph = b.build([b.softmax(b.dense(b.flatten(h, { id: 'f' }), 10, { id: 'fc' }), { id: 'sm' })]);
  const fm = await loadFashionMnist();
  const data = classificationSet({ data: fm.train, indices: allOf(fm.train).indices.subarray(0, 512) });
  const cfg: TrainConfig = { epochs: 2, batchSize: 64, optimizer: { kind: 'sgd', momentum: 0.9, weightDecay: 0 }, schedule: { kind: 'constant', lr: 0.05 }, loss: 'crossEntropy', seed: 2 };
  const r = await train(graph, data, undefined, cfg, { workers: 0, accelerator: adc(32, 4, 0.05) });
  assert.ok(r.history[1].trainLoss < r.history[0].trainLoss, `loss ${r.history[0].trainLoss} -> ${r.history[1].trainLoss}`);
});

test('cim accelerator kind: a bad description is refused with the field or layer named', () => {
  const layer = { mapping: { layer: 'conv1', adc: { bits: 5, signed: true, fullScale: [1], step: [1], maxSum: 9 } }, blocks: [{ diagonal: true }] };
  const cim = (over: object) => ({ kind: 'cim', spec: {}, layers: [], noise: { cells: false, irDrop: false, read: false, adc: false, timeS: 0 }, seed: 1, ...over }) as unknown as AcceleratorSpec;
  assert.throws(() => checkAcceleratorSpec(cim({ noise: { cells: 'yes' } })), { message: 'cim accelerator noise.cells: expected true or false' });
  assert.throws(() => checkAcceleratorSpec(cim({ seed: 0.5 })), { message: 'cim accelerator seed 0.5: expected an integer' });
  assert.throws(() => checkAcceleratorSpec(cim({ layers: [layer] })), /layer 'conv1': depthwise \(block-diagonal\) crossbar layers are not modelled in training/);
  assert.throws(() => checkAcceleratorSpec({ kind: 'nope' } as unknown as AcceleratorSpec), { message: "accelerator kind 'nope' is unknown (known: cim, row-group-adc)" });
});
