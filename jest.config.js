/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // The jsii-language packages' tests need `npm run package` first: `npm run consumers` runs them.
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/bindings/'],
  // Sources, not the compiled lib/*.js beside them.
  moduleFileExtensions: ['ts', 'js', 'json'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.dev.json' }],
  },
  testTimeout: 60000,
  // Jest's transform cache, kept with the dependencies rather than in the temp directory.
  cacheDirectory: '<rootDir>/node_modules/.cache/jest',
  // aws-cdk-lib's own hook: removes the cloud assemblies of every App synthesized without an
  // outdir (Template.fromStack, Annotations.fromStack) after each test file. Jest never fires the
  // process 'exit' event on which aws-cdk-lib would remove them itself (CDK_NO_CLEAN_TESTS=1 keeps them).
  setupFilesAfterEnv: ['aws-cdk-lib/testhelpers/jest-autoclean'],
};
