module.exports = require('../../jest.preset.cjs').project(__dirname, {
  displayName: 'enforcement-service',
  testTimeout: 120000,
  globalSetup: '<rootDir>/../testing/src/jest/kafka.global-setup.ts',
  globalTeardown: '<rootDir>/../testing/src/jest/kafka.global-teardown.ts',
});
