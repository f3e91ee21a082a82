export * from './read-db';
