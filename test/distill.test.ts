// Knowledge distillation in the replica's loss: known answers on a small classifier.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { GraphBuilder } from '../compiler/ir/builder.js';
import type { Graph } from '../compiler/ir/types.js';
import { initBackend } from '../compiler/train/backend.js';
import { packParams, paramLayout } from '../compiler/train/flat-params.js';
import { Replica } from '../compiler/train/replica.js';
import { Rng } from '../compiler/util/rng.js';

function classifier(seed: number): Graph {
  const b = new GraphBuilder(`mlp${seed}`, seed);
  const x = b.input('x', [6]);
  return b.build([b.softmax(b.dense(b.relu(b.dense(x, 8, { id: 'h' })), 4, { id: 'logits' }), { id: 'p' })]);
}

function logSoftmax(z: number[]): number[] {
  const m = Math.max(...z);
  const l = Math.log(z.reduce((s, v) => s + Math.exp(v - m), 0)) + m;
  return z.map((v) => v - l);
}

test('distillation: (1 - alpha)·CE + alpha·T²·KL(teacher_T ‖ student_T), computed by hand; a teacher equal to the student only scales CE and its gradient', async () => {
  await initBackend();
  const student = classifier(1);
  const teacher = classifier(2);
  const layout = paramLayout(student);
  const flat = packParams(student, layout);
  const rng = new Rng(3);
  const n = 5;
  const x = Float32Array.from({ length: n * 6 }, () => rng.normal());
  const y = Float32Array.from({ length: n }, (_, i) => i % 4);
  const plain = new Replica(student, layout, 'crossEntropy');
  const g0 = new Float32Array(layout.size);
  const ce = plain.step(flat, x, y, n, 1, g0).loss;
  // logits of both by the replica's own inference (softmax output -> log gives logits up to a constant)
  const logits = (g: Graph) => {
    const l = paramLayout(g);
    const p = new Replica(g, l, 'crossEntropy').predict(packParams(g, l), x, n);
    return Array.from({ length: n }, (_, i) => Array.from(p.subarray(i * 4, i * 4 + 4), Math.log));
  };
  const zs = logits(student);
  const zt = logits(teacher);
  const alpha = 0.7;
  const T = 3;
  let kl = 0;
  for (let i = 0; i < n; i++) {
    const lt = logSoftmax(zt[i].map((v) => v / T));
    const ls = logSoftmax(zs[i].map((v) => v / T));
    kl += lt.reduce((s, v, c) => s + Math.exp(v) * (v - ls[c]), 0) / n;
  }
  assert.ok(kl > 0.01, `KL ${kl}`);
  const want = (1 - alpha) * ce + alpha * T * T * kl;
  const tensorsBefore = tf.memory().numTensors;
  const distilling = new Replica(student, layout, 'crossEntropy', undefined, { teacher, alpha, temperature: T });
  const got = distilling.step(flat, x, y, n, 1, new Float32Array(layout.size)).loss;
  assert.ok(Math.abs(got - want) <= 1e-5 * want, `loss ${got} vs ${want}`);
  distilling.dispose();
  assert.equal(tf.memory().numTensors, tensorsBefore, 'the teacher weights are freed with the replica');
  // teacher = student: KL and its gradient vanish
  const g1 = new Float32Array(layout.size);
  const self = new Replica(student, layout, 'crossEntropy', undefined, { teacher: student, alpha, temperature: T }).step(flat, x, y, n, 1, g1).loss;
  assert.ok(Math.abs(self - (1 - alpha) * ce) <= 1e-6, `${self} vs ${(1 - alpha) * ce}`);
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < g0.length; i++) {
    worst = Math.max(worst, Math.abs(g1[i] - (1 - alpha) * g0[i]));
    scale = Math.max(scale, Math.abs(g0[i]));
  }
  assert.ok(scale > 1e-3 && worst <= 1e-5 * scale, `gradient off by ${worst} (scale ${scale})`);
});

test('distillation refuses a non-classification loss', () => {
  const g = classifier(1);
  assert.throws(() => new Replica(g, paramLayout(g), 'mse', undefined, { teacher: g, alpha: 0.5, temperature: 4 }), { message: 'distillation needs a classification (cross-entropy) loss' });
});
