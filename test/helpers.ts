// Helpers shared by the test suites: the tandem CLI as a child process, and real Fashion-MNIST images.
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { allOf, classificationSet, loadFashionMnist } from '../compiler/data/index.js';

const CLI = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'cli', 'main.js');

// `tandem profile` records every run in the run store: tests write into a throwaway one, never the user's
// ~/.cache/tandem/runs.sqlite or $TANDEM_STORE.
const TEST_STORE = path.join(os.tmpdir(), `tandem-test-runs-${process.pid}.sqlite`);
process.on('exit', () => {
  for (const f of [TEST_STORE, `${TEST_STORE}-wal`, `${TEST_STORE}-shm`]) rmSync(f, { force: true });
});

/** Runs `tandem args` (the built CLI) with extra environment variables; never rejects. */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, TANDEM_STORE: TEST_STORE, ...env }, maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** The first n images (NHWC in [0, 1]) and labels of a Fashion-MNIST split. */
export async function fashionImages(split: 'train' | 'test', n: number): Promise<{ x: Float32Array; y: Float32Array }> {
  const fm = await loadFashionMnist();
  const x = new Float32Array(n * 784);
  const y = new Float32Array(n);
  classificationSet(allOf(fm[split])).fill(
    Array.from({ length: n }, (_, i) => i),
    x,
    y,
  );
  return { x, y };
}
