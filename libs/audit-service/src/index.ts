export * from './canonical-json';
export * from './merkle/merkle';
export * from './decisions/replay-decision';
