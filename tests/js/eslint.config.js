// eslint.config.js - how `make check` lints src/report/flame_graph.js, the
// script the SVG flame graph carries inline. It is a browser script, not a
// module: ES5 syntax in one strict IIFE, using only the page's window and
// document and ES2015's Map, so a construct or a global that an older
// viewer lacks, or a typo that makes a global, fails the build. The
// Makefile copies this file beside $(OUT)/js/node_modules, where
// @eslint/js resolves.
'use strict';

const js = require('@eslint/js');

module.exports = [
  js.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 5,
      sourceType: 'script',
      globals: { window: 'readonly', document: 'readonly', Map: 'readonly' },
    },
    rules: {
      // ES5's catch must name the error, even when unused.
      'no-unused-vars': ['error', { caughtErrors: 'none' }],
      strict: ['error', 'global'],
      'no-implicit-globals': 'error',
      eqeqeq: 'error',
    },
  },
];
