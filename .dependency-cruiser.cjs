/**
 * Import rules checked by `npm run cycles` (part of `npm run check`): no import cycle anywhere in
 * packages/*\/src. Package direction is pinned by test/architecture.test.ts; see
 * docs/architecture.md, "Packages and their arrows".
 */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Ownership runs one way: a module never reaches itself again through its imports.',
      from: { path: '^packages/[^/]+/src/' },
      to: { circular: true },
    },
  ],
  options: {
    includeOnly: '^packages/[^/]+/src/',
    exclude: { path: ['node_modules', '\\.test\\.ts$', '/dist/'] },
    tsPreCompilationDeps: true,
    combinedDependencies: false,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
