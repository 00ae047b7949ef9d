// The entry's two parts, loaded on demand so that a command reads only the one it runs. From source they are
// plain imports; in the bundle (build.ts) this module is replaced by one that loads the part files through a code
// cache (code-cache.ts), with the same exports.
export const parts = {
  list: () => import('./list-json.ts'),
  cli: () => import('./cli.ts'),
};
