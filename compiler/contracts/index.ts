// The contracts between stages, in one place: Graph IR, Plan, Report, Target.
export * from '../ir/index.js';
export * from './plan.js';
export * from './report.js';
export * from './target.js';
export type { ProgressEvent, ProgressFn } from '../util/progress.js';
