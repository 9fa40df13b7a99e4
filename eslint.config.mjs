// @ts-check
import importPlugin from 'eslint-plugin-import';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/*.js', '**/*.d.ts', 'cdk.out/**', 'dist/**', 'assets/**', 'node_modules/**', 'eslint.config.mjs'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.mjs'],
    languageOptions: {
      parserOptions: { project: './tsconfig.dev.json', tsconfigRootDir: import.meta.dirname },
    },
    plugins: { import: importPlugin },
    settings: { 'import/resolver': { node: { extensions: ['.ts', '.js'] } } },
    rules: {
      indent: ['error', 2, { SwitchCase: 1 }],
      quotes: ['error', 'single', { avoidEscape: true }],
      semi: ['error', 'always'],
      'comma-dangle': ['error', 'always-multiline'],
      'no-trailing-spaces': 'error',
      'eol-last': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'import/no-extraneous-dependencies': ['error', { devDependencies: ['**/test/**', '**/scripts/**', '**/examples/**', '**/lambda/**'], peerDependencies: true, optionalDependencies: false }],
      'import/order': ['error', { groups: ['builtin', 'external', 'internal', 'parent', 'sibling'], alphabetize: { order: 'asc', caseInsensitive: true } }],
    },
  },
  {
    files: ['scripts/**/*.mjs'],
    languageOptions: { parserOptions: { project: null }, globals: { console: 'readonly', process: 'readonly' } },
    rules: { '@typescript-eslint/no-floating-promises': 'off' },
  },
);
