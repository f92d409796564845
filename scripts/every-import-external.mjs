// An esbuild plugin for the checks that read imports (check-portable, check-examples): each file
// is built alone, its imports recorded in the metafile and never followed.
export const everyImportExternal = {
  name: 'every-import-external',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /.*/ }, (args) =>
      args.kind === 'entry-point' ? undefined : { path: args.path, external: true },
    )
  },
}
