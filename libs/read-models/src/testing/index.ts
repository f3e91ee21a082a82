export * from './seed-log';
export * from './read-db';
