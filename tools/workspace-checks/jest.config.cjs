module.exports = require('../../jest.preset.cjs').project(__dirname, { displayName: 'workspace-checks', testTimeout: 60000 });
