export * from './enforcement-test-app';
