export * from './schema';
export * from './defaults';
export * from './names';
export * from './displayName';
export * from './trainingParameters';
export * from './dataset';
export * from './qualityGate';
export * from './contentKey';
export { SPEC_LIMITS } from './limits';
