export {
  startImdsEmulator,
  type ImdsEmulator,
  type ImdsInstance,
  type ImdsInterface,
  type ImdsOptions,
  type ImdsRequestRecord,
  type ImdsRole,
} from './server.js';
export { imdsInstanceFromEc2, roleAccessKeyId } from './from-ec2.js';
