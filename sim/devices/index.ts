// Device and converter non-idealities of analog CIM crossbars: small pure, seeded modules.
export * from './random.js';
export * from './programming.js';
export * from './drift.js';
export * from './read-noise.js';
export * from './drift-compensation.js';
export * from './ir-drop.js';
export * from './adc.js';
