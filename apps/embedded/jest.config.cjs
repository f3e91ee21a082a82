module.exports = require('../../jest.preset.cjs').project(__dirname, {
  displayName: 'embedded',
  testTimeout: 60000,
  // One suite switches an installation between BUS=kafka and the in-process bus.
  globalSetup: '<rootDir>/../../libs/testing/src/jest/kafka.global-setup.ts',
  globalTeardown: '<rootDir>/../../libs/testing/src/jest/kafka.global-teardown.ts',
});
