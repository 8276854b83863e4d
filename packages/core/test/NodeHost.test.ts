/**
 * Behaviours that only a driver over a real host has: socket files on disk,
 * their permissions, addresses the machine lacks. The memory network models
 * none of these (every address is its own; there is no file system).
 */
import { assert, describe, it } from "@effect/vitest"
import * as Network from "@sluice/core/Network"
import { driver } from "@sluice/node-adapter/NodeDriver"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import { ipcPath, tcpPort } from "./helpers.ts"

const run = <A, E>(effect: Effect.Effect<A, E, Network.Network | Scope.Scope>) =>
  Effect.provide(Effect.scoped(effect), Network.layer(driver))

/** Leaves a stale socket file at `path`: a process listens there and is killed. */
const staleSocket = (path: string) =>
  Effect.callback<void>((resume) => {
    const child = spawn(process.execPath, [
      "-e",
      `require("node:net").createServer().listen(${JSON.stringify(path)}, () => process.stdout.write("up"))`
    ], { stdio: ["ignore", "pipe", "inherit"] })
    child.stdout.once("data", () => child.kill("SIGKILL"))
    child.once("exit", () => resume(Effect.void))
  })

/** Runs fixtures/listen-privileged-port.ts as `nobody` (we are root) and parses what it prints. */
const listenAsNobody = () =>
  new Promise<unknown>((resolve, reject) => {
    const fixture = new URL("./fixtures/listen-privileged-port.ts", import.meta.url).pathname
    const child = spawn("setpriv", [
      "--reuid=nobody",
      "--regid=nogroup",
      "--clear-groups",
      process.execPath,
      fixture
    ], { stdio: ["ignore", "pipe", "inherit"] })
    let out = ""
    child.stdout.setEncoding("utf8")
    child.stdout.on("data", (chunk: string) => {
      out += chunk
    })
    child.once("error", reject)
    child.once("exit", (code) => {
      if (code === 0) resolve(JSON.parse(out))
      else reject(new Error(`fixture exited with ${String(code)}: ${out}`))
    })
  })

describe("node driver: host-only behaviours", () => {
  it.live("a stale IPC socket file is removed only when asked", () =>
    run(Effect.gen(function*() {
      const path = ipcPath("stale")
      yield* staleSocket(path)
      assert.isTrue(fs.statSync(path).isSocket(), "the killed process left its socket file")
      const refused = yield* Effect.flip(Network.listen({ path }))
      assert.strictEqual(refused.reason, "AddressInUse")
      assert.isTrue(fs.existsSync(path), "not removed unless asked")
      const server = yield* Network.listen({ path, removeStaleSocket: true })
      assert.deepStrictEqual(server.address, { _tag: "Ipc", path })
      yield* Effect.scoped(Network.connect({ path }))
    })))

  it.live("a live listener's path and a regular file are never removed", () =>
    run(Effect.gen(function*() {
      const path = ipcPath("live")
      yield* Network.listen({ path })
      const live = yield* Effect.flip(Network.listen({ path, removeStaleSocket: true }))
      assert.strictEqual(live.reason, "AddressInUse")
      yield* Effect.scoped(Network.connect({ path })) // still answering
      const file = ipcPath("file")
      fs.writeFileSync(file, "precious")
      const error = yield* Effect.flip(Network.listen({ path: file, removeStaleSocket: true }))
      assert.strictEqual(error.reason, "AddressInUse")
      assert.strictEqual(fs.readFileSync(file, "utf8"), "precious")
    })))

  it.live("readableAll and writableAll open the socket file to everyone", () =>
    run(Effect.gen(function*() {
      const path = ipcPath("perm")
      yield* Network.listen({ path, readableAll: true, writableAll: true })
      const mode = fs.statSync(path).mode & 0o777
      assert.strictEqual(mode & 0o066, 0o066, `mode ${mode.toString(8)}`)
    })))

  it.live("AddressNotAvailable: listening on, or binding to, an address this host lacks", () =>
    run(Effect.gen(function*() {
      const error = yield* Effect.flip(Network.listen({ host: "192.0.2.1", port: 0 }))
      assert.strictEqual(error.reason, "AddressNotAvailable")
      assert.strictEqual(error.code, "EADDRNOTAVAIL")
      assert.strictEqual(error.address, "192.0.2.1")
      const server = yield* Network.listen({ host: "127.0.0.1", port: 0 })
      const bind = yield* Effect.flip(Effect.scoped(
        Network.connect({ host: "127.0.0.1", port: tcpPort(server.address), localAddress: "192.0.2.1" })
      ))
      assert.strictEqual(bind.reason, "AddressNotAvailable")
    })))

  it.live("AccessDenied: a privileged port for an unprivileged user", () =>
    run(Effect.gen(function*() {
      const exit = yield* Effect.exit(Network.listen({ host: "127.0.0.1", port: 1 }))
      if (process.getuid?.() === 0) {
        // root may bind any port: the listen succeeds; the same listen by an
        // unprivileged user (a child process run as `nobody`) is refused
        assert.strictEqual(exit._tag, "Success")
        const result = yield* Effect.promise(() => listenAsNobody())
        assert.deepStrictEqual(result, { reason: "AccessDenied", code: "EACCES", syscall: "listen", port: 1 })
      } else {
        assert.strictEqual(exit._tag, "Failure")
        const error = yield* Effect.flip(Network.listen({ host: "127.0.0.1", port: 1 }))
        assert.strictEqual(error.reason, "AccessDenied")
        assert.strictEqual(error.code, "EACCES")
      }
    })))
})
