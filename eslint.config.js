// Lint for the whole repository; `npm run lint` and the test command (scripts/test.mjs) run it.
// Not type-aware on purpose: the type-checked presets took about 90 s on this repository's two-core CI, and
// `tsc --noEmit` already checks types. So: the recommended syntactic sets, plus the settings below.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeGlobals = Object.fromEntries(
  ['process', 'console', 'Buffer', 'URL', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'].map((g) => [g, 'readonly']),
);
const browserGlobals = Object.fromEntries(
  [
    'window', 'document', 'localStorage', 'Node', 'fetch', 'console', 'queueMicrotask', 'EventSource',
    'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'URL', 'URLSearchParams',
  ].map((g) => [g, 'readonly']),
);

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'data/**', 'coverage/**', 'artifacts/**', 'appPackage/build/**', 'devTools/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // A leading underscore marks a parameter or binding kept for its position or to drop it from a rest spread.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      // `let x; const f = () => x…; x = …` is how a closure refers to the object it is part of (src/sim/index.ts).
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
    },
  },
  {
    files: ['test/**/*.ts', 'src/**/*.test.ts'],
    rules: {
      // Tests read wire JSON (Graph, Exchange, Bot Framework bodies) whose shape is the thing under test.
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  { files: ['**/*.mjs', '**/*.js'], languageOptions: { globals: nodeGlobals } },
  { files: ['src/playground/static/**/*.js'], languageOptions: { globals: browserGlobals } },
);
