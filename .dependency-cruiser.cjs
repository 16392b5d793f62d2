/**
 * The shape of src/ (ARCHITECTURE.md, Folders), checked by test/unit/structure.spec.ts:
 * no import cycles between files or folders, daemon/ is the composition root that no other
 * folder imports, and a folder reaches into another only through that folder's index.ts.
 */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      comment: 'A file must not reach itself through its imports.',
      severity: 'error',
      from: {},
      to: { circular: true }
    },
    {
      name: 'no-folder-cycles',
      comment: 'A folder must not reach itself through the folders it imports.',
      severity: 'error',
      scope: 'folder',
      from: { path: '^src/' },
      to: { circular: true }
    },
    {
      name: 'daemon-is-the-root',
      comment: 'daemon/ builds and starts everything; nothing else may depend on it.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/daemon/' },
      to: { path: '^src/daemon/' }
    },
    {
      name: 'through-index',
      comment: 'Another concern folder is reached only through its index.ts (util/ is a toolbox of single files).',
      severity: 'error',
      from: { path: '^src/([^/]+)/' },
      to: { path: '^src/([^/]+)/', pathNot: ['^src/$1/', '^src/util/', '^src/[^/]+/index\\.ts$'] }
    }
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|proto)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' }
  }
}
