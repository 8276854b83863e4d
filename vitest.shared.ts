/**
 * What every test project shares: the workspace runs from the `.ts` sources.
 *
 * Each package's `exports` map has an `@sluice/source` condition that points at
 * `src/*.ts`; the published default is the built `dist/*.js`. Vite resolves the
 * packages with that condition, and `NODE_OPTIONS` carries it to every Node
 * process a test starts (examples, fixtures, child processes), so nothing in
 * the repository needs a build step.
 */
import { defaultServerConditions } from "vite"
import type { ViteUserConfig } from "vitest/config"

/** The export condition that selects a workspace package's TypeScript sources. */
export const sourceCondition = "@sluice/source"

const conditions = [sourceCondition, ...defaultServerConditions]

/** `NODE_OPTIONS` with the source condition added to whatever the caller had. */
export const nodeOptions = [process.env["NODE_OPTIONS"], `--conditions=${sourceCondition}`]
  .filter((o) => o !== undefined && o !== "").join(" ")

/** A test project's config: its name, the shared resolution and timeouts. */
export const project = (name: string): ViteUserConfig => ({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: [sourceCondition] } },
  test: {
    name,
    include: ["test/**/*.test.ts"],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    env: { NODE_OPTIONS: nodeOptions }
  }
})
