/**
 * Where the handle bindings are not reachable (a process run with pending
 * deprecations, see NodeDriverSelection.test.ts), TLS still works: the
 * plaintext then goes through the `TLSSocket`'s own reads and writes instead
 * of Node's TLS stream driven as a raw handle, on the node driver and on the
 * memory network, without a deprecation warning.
 */
import { assert, describe, it } from "@effect/vitest"
import { spawn } from "node:child_process"
import * as path from "node:path"

const fixture = path.join(import.meta.dirname, "fixtures", "tls-echo.ts")

const run = (env: Record<string, string>) =>
  new Promise<{ out: unknown; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [fixture], { env: { ...process.env, ...env }, timeout: 30_000 })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d: Buffer) => (stdout += d))
    child.stderr.on("data", (d: Buffer) => (stderr += d))
    child.on("error", reject)
    child.on("close", () => {
      try {
        resolve({ out: JSON.parse(stdout), stderr })
      } catch (error) {
        reject(
          new Error(`no answer (stdout ${JSON.stringify(stdout)}, stderr ${JSON.stringify(stderr)})`, { cause: error })
        )
      }
    })
  })

describe("TLS without the handle bindings", () => {
  for (const [what, env] of [["with them", {}], ["without them", { NODE_PENDING_DEPRECATION: "1" }]] as const) {
    it(`a TLS echo on the node driver and the memory network, ${what}`, { timeout: 40_000 }, async () => {
      const { out, stderr } = await run(env)
      const ok = { protocol: "TLSv1.3", ok: true }
      assert.deepStrictEqual(out, {
        name: what === "with them" ? "node" : "node (net.Socket)",
        node: ok,
        memory: ok
      })
      assert.notInclude(stderr, "DEP0111")
    })
  }
})
