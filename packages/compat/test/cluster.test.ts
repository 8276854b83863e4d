/**
 * compat in cluster workers, compared with `node:net` in the same program
 * (`fixtures/cluster-child.ts`, run once with each): both workers' `listen(0)`
 * get the primary's one shared listener (the same port), and round-robin hands
 * a connection that a worker at its `maxConnections` (set after `listen()`)
 * refuses to the other worker, so that every connection is answered.
 */
import { assert, describe, it } from "@effect/vitest"
import { execFile } from "node:child_process"
import * as path from "node:path"

const fixture = path.join(import.meta.dirname, "fixtures", "cluster-child.ts")

const run = (which: "node" | "compat") =>
  new Promise<unknown>((resolve, reject) => {
    execFile(
      process.execPath,
      [fixture],
      { env: { ...process.env, SLUICE_NET: which }, timeout: 30_000 },
      (error, stdout, stderr) => {
        if (error !== null) reject(new Error(`${which}: ${error.message}\n${stderr}`))
        else resolve(JSON.parse(stdout.trim()))
      }
    )
  })

describe("cluster workers", () => {
  it("share the primary's listener; round-robin re-routes what a full worker refuses, as node:net's", async () => {
    const expected = await run("node")
    assert.deepStrictEqual(expected, { samePort: true, reads: Array(6).fill("worker 1") })
    assert.deepStrictEqual(await run("compat"), expected)
  }, 60_000)
})
