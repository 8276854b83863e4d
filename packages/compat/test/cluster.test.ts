/**
 * compat in cluster workers, compared with `node:net` in the same program
 * (`fixtures/cluster-child.ts`, run once with each): both workers' `listen(0)`
 * get the primary's one listener (the same port; round-robin, or its handle
 * shared with the workers), and round-robin hands
 * a connection that a worker at its `maxConnections` (set after `listen()`)
 * refuses to the other worker, so that every connection is answered.
 */
import { assert, describe, it } from "@effect/vitest"
import { execFile } from "node:child_process"
import * as path from "node:path"

const fixture = path.join(import.meta.dirname, "fixtures", "cluster-child.ts")

const run = (which: "node" | "compat", sched: "rr" | "none" = "rr") =>
  new Promise<unknown>((resolve, reject) => {
    execFile(
      process.execPath,
      [fixture],
      { env: { ...process.env, SLUICE_NET: which, SLUICE_SCHED: sched }, timeout: 30_000 },
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
  it("with the primary's handle shared (SCHED_NONE): both listen on it and answer, as node:net's", async () => {
    const expected = await run("node", "none")
    assert.deepStrictEqual(expected, { samePort: true, reads: Array(6).fill("a worker") })
    assert.deepStrictEqual(await run("compat", "none"), expected)
  }, 60_000)
})
