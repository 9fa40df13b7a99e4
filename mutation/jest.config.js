/**
 * The jest config of the mutation run (`npm run mutation`): the fast unit and
 * construct tests only. The lifecycle tests run the bundled handler through the
 * local CloudFormation (minutes per run, and the bundle does not see the
 * mutants); the docs and package tests need the jsii build; the boundaries and
 * local Proton tests cover neither lib/ nor lambda/.
 *
 * @type {import('jest').Config}
 */
const path = require('path');

module.exports = {
  ...require('../jest.config'),
  rootDir: path.join(__dirname, '..'),
  setupFiles: [path.join(__dirname, 'setup.js')],
  // Stop at the first failure: the mutant is killed.
  testEnvironment: path.join(__dirname, 'environment.js'),
  globalSetup: path.join(__dirname, 'global-setup.js'),
  testSequencer: path.join(__dirname, 'sequencer.js'),
  testPathIgnorePatterns: [
    '/node_modules/',
    '/test/lifecycle',
    '/test/docs\\.test\\.ts$',
    '/test/package\\.test\\.ts$',
    '/test/integ\\.test\\.ts$',
    '/test/boundaries\\.test\\.ts$',
    '/test/local-proton\\.test\\.ts$',
  ],
};
