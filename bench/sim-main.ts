// `node dist/bench/sim-main.js [--quick]`: the CIM simulator benchmark alone (bench/sim.ts).
import { benchSimulator, simBenchLines } from './sim.js';

const r = await benchSimulator({ quick: process.argv.includes('--quick'), log: (s) => process.stderr.write(`${s}\n`) });
process.stdout.write(simBenchLines(r).join('\n') + '\n');
