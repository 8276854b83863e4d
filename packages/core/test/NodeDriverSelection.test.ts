/**
 * Which node driver `NodeDriver.driver` is: over libuv handles by default,
 * the `net.Socket` driver when the process asks to be warned of pending
 * deprecations (the handles' bindings come through `process.binding`, which
 * then warns), and never a DEP0111 warning either way.
 */
import { assert, describe, it } from "@effect/vitest"
import { spawn } from "node:child_process"
import * as path from "node:path"

const fixture = path.join(import.meta.dirname, "fixtures", "node-driver-name.ts")

const run = (args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  new Promise<{ name: string; connected: boolean; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [...args, fixture], { env: { ...process.env, ...env }, timeout: 20_000 })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d: Buffer) => (stdout += d))
    child.stderr.on("data", (d: Buffer) => (stderr += d))
    child.on("error", reject)
    child.on("close", () => {
      try {
        resolve({ ...(JSON.parse(stdout) as { name: string; connected: boolean }), stderr })
      } catch (error) {
        reject(
          new Error(`no answer (stdout ${JSON.stringify(stdout)}, stderr ${JSON.stringify(stderr)})`, { cause: error })
        )
      }
    })
  })

describe("NodeDriver.driver selection", () => {
  it("runs on libuv handles by default", async () => {
    const r = await run([])
    assert.deepStrictEqual([r.name, r.connected], ["node", true])
    assert.notInclude(r.stderr, "DEP0111")
  })

  for (
    const [what, args, env] of [
      ["--pending-deprecation", ["--pending-deprecation"], {}],
      [
        "NODE_OPTIONS=--pending-deprecation",
        [],
        // added to the test's own NODE_OPTIONS, which select the workspace's sources (vitest.shared.ts)
        { NODE_OPTIONS: `${process.env["NODE_OPTIONS"] ?? ""} --pending-deprecation` }
      ],
      ["NODE_PENDING_DEPRECATION=1", [], { NODE_PENDING_DEPRECATION: "1" }]
    ] as const
  ) {
    it(`falls back to net.Socket, without a deprecation warning, under ${what}`, async () => {
      const r = await run(args, env)
      assert.deepStrictEqual([r.name, r.connected], ["node (net.Socket)", true])
      assert.notInclude(r.stderr, "DEP0111")
    })
  }
})
