/**
 * The test projects. Vitest ≥ 4 reads no workspace file: `vitest.config.ts`
 * passes this list to `test.projects`.
 */
export default [
  "packages/core",
  "packages/node-adapter",
  "packages/compat",
  "packages/http",
  "packages/sim",
  "packaging"
]
