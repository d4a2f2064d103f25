// `node dist/bench/sim-main.js [--quick]`: the CIM simulator benchmark alone (bench/sim.ts).
import { benchSimulator } from './sim.js';

const r = await benchSimulator({ quick: process.argv.includes('--quick'), log: (s) => process.stderr.write(`${s}\n`) });
process.stdout.write(
  [
    `full analog / exact (lossless): ${r.analogOverExact.toFixed(3)}`,
    `full analog / exact digit by digit: ${r.analogOverDigits.toFixed(3)}`,
    `full analog / per-cell reference: ${r.analogOverPerCell.toFixed(1)}x`,
    `full analog / numpy simulator with noise (0.009 G MAC/s, measured by the issue): ${r.analogOverNumpyNoisy.toFixed(1)}x`,
    `exact (lossless) share of the ~190 GFLOP/s fp32 peak: ${(100 * r.exactShareOfPeak).toFixed(1)}%`,
  ].join('\n') + '\n',
);
