export { DrbdAdm, type DrbdAdmOptions, type VerbResult } from './adm.js';
export { type ConfigFileIo, type WriteResourceFileOptions, writeResourceFile } from './config-file.js';
export * from './enums.js';
export * from './errors.js';
export {
  applyEvents2Event,
  type Events2Event,
  type Events2Kind,
  type Events2Object,
  parseEvents2Line,
  reduceEvents2Lines,
} from './events2.js';
export { DrbdParseError } from './fields.js';
export * from './model.js';
export { renderResourceFile } from './render.js';
export type * from './state.js';
export { parseStatus } from './status.js';
export {
  DrbdEventStream,
  type DrbdEventStreamOptions,
  DrbdWaitTimeoutError,
  EVENTS2_ARGS,
} from './stream.js';
export { validateResourceName, validateResourceSpec } from './validate.js';
export * from './version.js';
