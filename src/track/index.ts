export { TrackerSet, type TrackerDeps } from './tracker-set.js';
export type {
  ChangeCause,
  ChangeListener,
  HttpCheckSpec,
  NetChecks,
  TcpCheckSpec,
  Timers,
  TrackerKind,
  TrackerStatus,
  TrackInputs,
} from './types.js';
export { binaryContribution, fileContribution, RiseFall } from './weights.js';
export { resolveLinks, type TrackLink } from './links.js';
