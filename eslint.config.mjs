// `npm run lint`: Prettier formats (lines of 120), ESLint checks the TypeScript and scripts; AssemblyScript
// (assembly/) is checked for line length only, as its decorators and types are not TypeScript's.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** AssemblyScript's decorators and types are not TypeScript: its files are read as lines of text, for max-len. */
const linesOnly = {
  meta: { name: 'lines-only' },
  parseForESLint(code) {
    const lines = code.split('\n');
    const end = { line: lines.length, column: lines[lines.length - 1].length };
    const ast = {
      type: 'Program',
      body: [],
      sourceType: 'module',
      range: [0, code.length],
      loc: { start: { line: 1, column: 0 }, end },
      tokens: [],
      comments: [],
    };
    return { ast, visitorKeys: { Program: [] } };
  },
};

const lineLength = [
  'error',
  { code: 120, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreRegExpLiterals: true, ignoreUrls: true },
];

export default tseslint.config(
  {
    ignores: [
      'build/',
      'dist/',
      'node_modules/',
      'src/generated/',
      'web/dist/',
      'test/fixtures/',
      'test/artifacts/',
      'bench/results/',
    ],
  },
  {
    files: ['**/*.{ts,mts,mjs,js}'],
    ignores: ['assembly/**', 'bench/assembly/**'],
    extends: [js.configs.recommended, ...tseslint.configs.recommended],
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    rules: {
      'max-len': lineLength,
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['assembly/**/*.ts', 'bench/assembly/**/*.ts'],
    languageOptions: { parser: linesOnly },
    rules: { 'max-len': lineLength },
  },
);
