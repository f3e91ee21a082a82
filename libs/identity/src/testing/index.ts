export * from './test-idp';
