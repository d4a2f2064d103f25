// The Graph IR's public surface.
export * from './types.js';
export { OPS, opDef, isOp, convOutSize } from './ops.js';
export { inferShapes, verify, graphStats, consumers, nodeById, type NodeStats, type GraphStats } from './graph.js';
export { printGraph } from './print.js';
export { serializeGraph, deserializeGraph, saveGraph, loadGraph, GRAPH_FILE, WEIGHTS_FILE } from './serialize.js';
export { GraphBuilder, samePads } from './builder.js';
