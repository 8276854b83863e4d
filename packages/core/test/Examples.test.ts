/**
 * The runnable examples (`examples/*.ts`) run and exit 0 by themselves: a
 * newcomer runs them first. Each checks its own results and exits 1 (or
 * hangs, which the timeout catches) when one does not hold.
 * `examples/echo-server.ts` serves until stopped; `examples/echo.ts` runs it.
 */
import { assert, describe, it } from "@effect/vitest"
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"

const root = path.resolve(import.meta.dirname, "../../..")
const examples = fs.readdirSync(path.join(root, "examples"))
  .filter((f) => f.endsWith(".ts") && f !== "echo-server.ts")
  .toSorted()

const run = (file: string): Promise<{ code: number | null; output: string }> =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join("examples", file)], { cwd: root, timeout: 30_000 })
    let output = ""
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()))
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()))
    child.on("close", (code) => resolve({ code, output }))
  })

describe("examples", () => {
  it("there are examples to run", () => {
    assert.isAtLeast(examples.length, 6)
  })
  for (const file of examples) {
    it(`${file} exits 0 by itself`, { timeout: 40_000 }, async () => {
      const { code, output } = await run(file)
      assert.strictEqual(code, 0, output)
    })
  }
})
