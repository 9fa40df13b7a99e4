// @ts-check
import importPlugin from 'eslint-plugin-import';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/*.js', '**/*.d.ts', 'cdk.out/**', 'dist/**', 'assets/**', 'node_modules/**', '.stryker-tmp*/**', 'reports/**', 'eslint.config.mjs'] },
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
      'import/no-extraneous-dependencies': ['error', { devDependencies: ['**/test/**', '**/scripts/**', '**/examples/**', '**/lambda/**', '**/local/**'], peerDependencies: true, optionalDependencies: false }],
      // The product (lib/, lambda/), the local AWS it is proven against (local/), and what uses both
      // (scripts/, test/) stay separate parts: only scripts/ and test/ may import across.
      'import/no-restricted-paths': ['error', { zones: [
        { target: './lib', from: ['./lambda', './local', './scripts', './test', './examples'], message: 'lib/ is the construct: it imports only itself.' },
        { target: './lambda', from: ['./local', './scripts', './test', './examples'], message: 'lambda/ is the handler: it imports only itself and lib/contract.' },
        { target: './lambda', from: './lib', except: ['./contract.ts'], message: 'lambda/ shares only lib/contract with the construct.' },
        { target: './local', from: ['./lib', './lambda', './scripts', './test', './examples'], message: 'local/ emulates AWS: it never imports the product, the scripts or the tests.' },
        { target: './examples', from: ['./lambda', './local', './scripts', './test'], message: 'examples/ use the construct as a user would.' },
      ] }],
      'import/order': ['error', { groups: ['builtin', 'external', 'internal', 'parent', 'sibling'], alphabetize: { order: 'asc', caseInsensitive: true } }],
    },
  },
  {
    files: ['scripts/**/*.mjs'],
    languageOptions: { parserOptions: { project: null }, globals: { console: 'readonly', process: 'readonly' } },
    rules: { '@typescript-eslint/no-floating-promises': 'off' },
  },
);
