export * from './attr.js';
export * from './errors.js';
export { Lvm, type LvmOptions, type SnapshotUsage, type ThickLvSpec, type ThinLvSpec } from './lvm.js';
export * from './names.js';
export * from './report.js';
export * from './size.js';
