// Standalone: node dist/bench/decompose-main.js [--quick] [--json]
// (node dist/bench/decompose.js [--quick] does the same.) CP-ALS and Tucker-2 vs numpy, see decompose.ts.
import { decomposeMain } from './decompose.js';

await decomposeMain();
