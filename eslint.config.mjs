import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'reports/'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      'no-empty-pattern': 'off', // Playwright fixtures without dependencies are written `async ({}, use) =>`.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    // Dependencies point one way: tests → support, sandbox → support; support and the sandbox never import tests.
    files: ['support/**/*.ts', 'sandbox/**/*.ts'],
    ignores: ['support/reporters/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/tests/**', '../tests/*'], message: 'support/ and sandbox/ must not depend on tests/.' }] }],
    },
  },
  {
    files: ['support/**/*.ts'],
    ignores: ['support/reporters/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/sandbox/**', '../sandbox/*', '../../sandbox/*'], message: 'checks must not know the sandbox: they run against any server.' }, { group: ['**/tests/**'], message: 'support/ must not depend on tests/.' }] }],
    },
  },
);
