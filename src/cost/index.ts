// What a run costs (the package's `finetune-flow/cost`): the price table and its operator override, the
// estimate before a run, the cost measured after it, and the budget arithmetic. The local emulator's billing
// meter prices with the same table through this export.
export * from './types';
export * from './priceTable';
export * from './priceFile';
export * from './estimate';
export * from './actual';
export * from './budget';
export * from './format';
