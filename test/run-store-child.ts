// Child process for test/run-store.test.ts: writes runs into a store from another process.
//   node run-store-child.js write <file> <label> <runs>   save <runs> runs, then exit
//   node run-store-child.js kill <file> <layers> <samples>  save one large run, print 'mid' halfway through its
//                                                          transaction and block there until killed
import { RunStore } from '../codesign/run-store.js';
import { makeRecord } from './run-store-fixtures.js';

const [mode, file, a, b] = process.argv.slice(2);
const store = RunStore.open(file);
if (mode === 'write') {
  for (let i = 0; i < Number(b); i++) store.save(makeRecord({ label: `${a}-${i}`, layers: 40, samples: 64, seed: i }));
  store.close();
} else if (mode === 'kill') {
  const layers = Number(a);
  store.save(makeRecord({ label: 'killed', layers, samples: Number(b), seed: 99 }), {
    afterLayer: (i) => {
      if (i !== layers >> 1) return;
      process.stdout.write('mid\n');
      // block synchronously inside the open transaction: nothing after this line runs before SIGKILL
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
    },
  });
  throw new Error('the transaction was expected to be killed before commit');
} else throw new Error(`unknown mode ${mode}`);
