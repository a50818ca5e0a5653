export { startEc2Emulator, type Ec2Emulator, type Ec2EmulatorOptions, type ScriptedFault } from './server.js';
export { decodeAuthorizationMessage, type AuthorizationContext } from './auth.js';
export { CallLog, type CallRecord } from './call-log.js';
export type { ConsistencyDelay, LagTarget } from './consistency.js';
export { DEFAULT_KNOBS, type Ec2Knobs, type FaultCode, type LatencySpec } from './knobs.js';
export { SUPPORTED_ACTIONS, type ActionName, type ReassociationMode } from './actions/index.js';
export type {
  AddressRecord,
  Ec2Seed,
  Ec2State,
  InstanceRecord,
  NetworkInterfaceRecord,
  RouteRecord,
  RouteTableRecord,
  RouteTarget,
} from './model.js';
