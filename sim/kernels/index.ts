// Fast matrix kernels of the analog CIM simulator (see gemm.ts).
export {
  gemmF32, gemmI16, relaxedSimdAvailable, setSimKernelTiling, simKernelBackend, simKernelFma, simKernelTiling, useSimKernelBackend,
  DEFAULT_TILING, type SimKernelTiling,
} from './gemm.js';
export { setSimKernelThreads, simKernelSplits, simKernelThreads } from './threads.js';
export { addBitSerialBlock, bitSerialBlock, bitSerialInputs, bitSerialSupported, fillStandardNormals, quantizeCodes, requantizeCodes, useBitSerialBackend, type BitSerialBlock, type BitSerialInputs } from './bitserial.js';
