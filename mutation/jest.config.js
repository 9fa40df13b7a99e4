/**
 * The jest config of the mutation run (`npm run mutation`): the fast unit and
 * construct tests only. The lifecycle tests run the bundled handler through the
 * local CloudFormation (minutes per run, and the bundle does not see the
 * mutants), and so do the fault pairs; the docs and package tests need the jsii
 * build; the language bindings' tests need their packages; the boundaries,
 * local endpoint, handler, workflow and packaging tests cover no line of lib/.
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
    '/test/local-',
    '/test/bindings/',
    '/test/answer-under-faults\\.test\\.ts$',
    '/test/handler',
    '/test/workflows\\.test\\.ts$',
    '/test/template-normalize\\.test\\.ts$',
    '/test/package-script\\.test\\.ts$',
  ],
};
