/**
 * The jsii-language packages and their consumers (npm run consumers): needs `npm run package`
 * first, and Python, a JDK with Maven, and Go. Not part of `npm test`.
 * @type {import('jest').Config}
 */
module.exports = {
  rootDir: '../..',
  testEnvironment: 'node',
  roots: ['<rootDir>/test/bindings'],
  testMatch: ['**/*.test.ts'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.dev.json' }],
  },
  // One consumer's cold run downloads its CDK and compiles (Go) or builds a jar (Java).
  testTimeout: 20 * 60 * 1000,
  // Each test's time, the language's wall time, in the output.
  verbose: true,
};
