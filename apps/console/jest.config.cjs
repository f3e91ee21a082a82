module.exports = require('../../jest.preset.cjs').project(__dirname, {
  displayName: 'console',
  // A real browser (Debian's chromium) against the real embedded process.
  testTimeout: 120000,
  testMatch: ['<rootDir>/e2e/**/*.spec.ts'],
});
