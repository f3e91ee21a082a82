export * from './canonical-json';
export * from './merkle/merkle';
