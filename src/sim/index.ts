/** The deterministic VRRP simulator's public surface, for tests, the CLI and later benchmarks. */
export { Prng } from './prng.js';
export {
  generateScenario,
  scenarioBounds,
  type Bounds,
  type HolderConfig,
  type NetConditions,
  type Scenario,
  type SimAction,
  type SimNodeConfig,
  type TimedAction,
} from './scenario.js';
export { Simulator, type PolicyStepFn, type SimOptions, type SimResult, type StepFn } from './simulator.js';
export {
  INVARIANTS,
  ViolationError,
  type CheckCounts,
  type InvariantName,
  type Violation,
} from './invariants.js';
export {
  describeScenario,
  formatCounts,
  formatFailure,
  replayCommand,
  runSeed,
  runSeeds,
  type BatchOptions,
  type BatchResult,
} from './run.js';
export { formatTrace, type TraceLine } from './trace.js';
