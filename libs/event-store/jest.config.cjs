module.exports = require('../../jest.preset.cjs').project(__dirname, {
  displayName: 'event-store',
  testTimeout: 60000,
  globalSetup: '<rootDir>/../testing/src/jest/esdb.global-setup.ts',
  globalTeardown: '<rootDir>/../testing/src/jest/esdb.global-teardown.ts',
});
