/**
 * `@sluice/compat`'s `net` binds the node driver lazily: importing compat loads
 * none of the driver's modules; the first use (here reading the driver's name,
 * or a listen) loads them, once, and the driver behind `net` is the node
 * driver's, member for member. Run in a child process, whose module loads a
 * hook records.
 */
import { assert, describe, it } from "@effect/vitest"
import { spawn } from "node:child_process"

const run = (code: string) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", code], { timeout: 15_000 })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d: Buffer) => (stdout += d))
    child.stderr.on("data", (d: Buffer) => (stderr += d))
    child.on("close", (exit) => resolve({ code: exit, stdout, stderr }))
  })

describe("compat's node driver, loaded at its first use", () => {
  it("importing compat loads none of the driver's modules; the first use loads them; the driver is the node driver's", async () => {
    const r = await run(`
      const loaded = []
      process.getBuiltinModule("node:module").registerHooks({
        load: (url, context, next) => (loaded.push(url), next(url, context))
      })
      const driverFiles = () => loaded.filter((u) => u.includes("/node-adapter/src/")).map((u) => u.replace(/.*\\/src\\//, "")).sort()
      const { default: net } = await import("@sluice/compat")
      const atImport = driverFiles()
      const lazy = net.driver
      const name = lazy.name
      const atFirstUse = driverFiles()
      const { driver } = await import("@sluice/node-adapter/NodeDriver")
      const same = {
        name: name === driver.name,
        capabilities: lazy.capabilities === driver.capabilities,
        timers: lazy.timers === driver.timers,
        open: lazy.open === driver.open && typeof lazy.open === "function"
      }
      const server = net.createServer((socket) => socket.end("over the node driver")).listen(0, "127.0.0.1", () => {
        let text = ""
        net.connect(server.address().port, "127.0.0.1").setEncoding("utf8").on("data", (d) => (text += d)).on("close", () => {
          server.close()
          console.log(JSON.stringify({ atImport, atFirstUse, after: driverFiles(), same, text }))
        })
      })
    `)
    assert.strictEqual(r.code, 0, r.stderr)
    const out = JSON.parse(r.stdout) as Record<string, unknown>
    assert.deepStrictEqual(out, {
      atImport: [],
      atFirstUse: ["NodeDriver.ts", "internal/quiet.ts", "internal/raw.ts"],
      after: ["NodeDriver.ts", "internal/quiet.ts", "internal/raw.ts"],
      same: { name: true, capabilities: true, timers: true, open: true },
      text: "over the node driver"
    })
  })
})
