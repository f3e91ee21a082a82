module.exports = require('../../jest.preset.cjs').project(__dirname, {
  displayName: 'distributed',
  testTimeout: 240000,
  globalSetup: '<rootDir>/../../libs/testing/src/jest/postgres-and-kafka.global-setup.ts',
  globalTeardown: '<rootDir>/../../libs/testing/src/jest/postgres-and-kafka.global-teardown.ts',
});
