/**
 * The READMEs' code blocks and the JSDoc examples compile against the current
 * API: a newcomer copies them first. `scripts/check-readme-snippets.ts`
 * extracts every block and typechecks it with the repository's strict
 * settings.
 */
import { assert, describe, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import * as path from "node:path"

const root = path.resolve(import.meta.dirname, "../../..")

describe("README and JSDoc code blocks", () => {
  it("every TypeScript and JavaScript block typechecks", () => {
    const result = spawnSync(process.execPath, [path.join(root, "scripts/check-readme-snippets.ts")], {
      cwd: root,
      encoding: "utf8",
      timeout: 60_000
    })
    assert.strictEqual(result.status, 0, `${result.stderr}${result.stdout}`)
    const count = /^(\d+) README and JSDoc code blocks checked, 0 errors$/m.exec(result.stdout)
    assert.isNotNull(count, result.stdout)
    // the blocks were found: a parser that finds none would pass vacuously
    assert.isAtLeast(Number(count?.[1]), 25)
  })
})
