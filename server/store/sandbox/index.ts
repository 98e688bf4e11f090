/** The design-function sandbox: CouchDB's JavaScript query server for the embedded store. */
export {
  loadEngine,
  Sandbox,
  SANDBOX_DEFAULTS,
  type SandboxFunction,
  type SandboxOptions,
} from './engine.js';
export {
  BuiltinReduceError,
  FilterError,
  SandboxCompileError,
  SandboxLimitError,
  SandboxThrow,
  type LimitKind,
} from './errors.js';
export {
  compileValidator,
  type ValidateUserCtx,
  type ValidationFailure,
  type Validator,
  type ValidatorOptions,
} from './validate.js';
export { compileFilter, type FilterFunction, type FilterOptions } from './filter.js';
export { compileMap, type MapFunction, type MapOptions } from './map.js';
export { compileReduce, type ReduceFunction, type ReduceOptions } from './reduce.js';
export { DistinctSketch } from './hll.js';
export { SUM_ERROR, type SumErrorValue } from './builtins.js';
