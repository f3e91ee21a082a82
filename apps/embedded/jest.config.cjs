module.exports = require('../../jest.preset.cjs').project(__dirname, { displayName: 'embedded', testTimeout: 60000 });
