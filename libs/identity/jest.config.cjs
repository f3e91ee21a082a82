module.exports = require('../../jest.preset.cjs').project(__dirname, { displayName: 'identity', testTimeout: 60000 });
