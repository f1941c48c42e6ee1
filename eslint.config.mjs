// Type-aware lint. Layering (STYLE.md): common <- api <- config <- engine | compose <- devcontainer | gateway <- cli;
// extension/ and server/ use only api, config and common; only extension/ imports vscode.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const layer = (files, forbidden, extra = []) => ({
  files,
  rules: {
    'no-restricted-imports': [
      'error',
      {
        paths: extra,
        patterns: forbidden.map((dir) => ({
          regex: `(^|/)${dir}(/|$)`,
          message: `this layer must not import ${dir}/ (see STYLE.md layering)`,
        })),
      },
    ],
  },
});
const noVscode = [{ name: 'vscode', message: 'only extension/ may import vscode' }];

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'extension/dist/**', 'node_modules/**', 'test/parity/fixtures/**', 'templates/**/.devcontainer/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/explicit-module-boundary-types': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-properties': ['error', { object: 'AbortSignal', property: 'any', message: 'on Node 20 a timeout signal inside AbortSignal.any() can be garbage-collected and never fire (nodejs/node#57736): use timeoutSignal() from src/common/abort' }],
    },
  },
  { files: ['**/*.mjs'], ...tseslint.configs.disableTypeChecked },
  { files: ['**/*.mjs'], languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly' } } },
  layer(['src/common/**'], ['api', 'config', 'engine', 'devcontainer', 'cli'], noVscode),
  layer(['src/api/**'], ['config', 'engine', 'devcontainer', 'cli'], noVscode),
  layer(['src/config/**'], ['engine', 'devcontainer', 'cli'], noVscode),
  layer(['src/engine/**'], ['devcontainer', 'cli'], noVscode),
  layer(['src/compose/**'], ['engine', 'devcontainer', 'cli'], noVscode),
  layer(['src/devcontainer/**'], ['engine', 'cli'], noVscode),
  layer(['src/gateway/**'], ['config', 'engine', 'devcontainer', 'cli'], noVscode),
  layer(['src/cli/**'], [], noVscode),
  layer(['server/**'], ['engine', 'devcontainer', 'cli'], noVscode),
  layer(['extension/**'], ['engine', 'devcontainer', 'cli']),
  { files: ['**/*.test.ts', 'test/**/*.ts'], rules: { '@typescript-eslint/no-floating-promises': ['error', { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] }] }] } },
);
