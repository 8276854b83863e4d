/**
 * Local socket paths, on every driver: what a listen and a connect find at a
 * path — an existing file or directory, a missing directory, a file where a
 * directory should be — fails the same way, with Node 24's codes on Linux
 * (libuv reports a bind's ENOENT as EACCES). The memory driver of the suite
 * answers from this host's file system (`NodeDriver.paths`); on its own, the
 * memory network knows only its own listeners' sockets, or the paths a test
 * describes.
 */
import { assert, describe, it } from "@effect/vitest"
import * as MemoryNetwork from "@sluice/core/MemoryNetwork"
import * as Network from "@sluice/core/Network"
import * as Effect from "effect/Effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { drivers } from "./drivers.ts"
import { ipcPath, run } from "./helpers.ts"

/** A fresh directory in the suite's temp directory. */
const freshDir = () => {
  const dir = ipcPath("dir")
  fs.mkdirSync(dir)
  return dir
}

const listenFailure = (target: string) => Effect.flip(Effect.scoped(Network.listen({ path: target })))
const connectFailure = (target: string) => Effect.flip(Effect.scoped(Network.connect({ path: target })))

const expect = (
  error: { reason: string; code: string; errno?: number | undefined; syscall: string; address?: string | undefined },
  expected: { reason: string; code: string; errno: number; syscall: string; address: string }
) =>
  assert.deepStrictEqual(
    { reason: error.reason, code: error.code, errno: error.errno, syscall: error.syscall, address: error.address },
    expected
  )

for (const d of drivers) {
  describe(`local socket paths on the ${d.name} driver`, () => {
    it.live("an existing regular file: listening fails with AddressInUse, connecting with ConnectionRefused", () =>
      run(
        d.make(),
        Effect.gen(function*() {
          const file = path.join(freshDir(), "not-a-socket")
          fs.writeFileSync(file, "x")
          const listen = yield* listenFailure(file)
          expect(listen, { reason: "AddressInUse", code: "EADDRINUSE", errno: -98, syscall: "listen", address: file })
          const connect = yield* connectFailure(file)
          expect(connect, {
            reason: "ConnectionRefused",
            code: "ECONNREFUSED",
            errno: -111,
            syscall: "connect",
            address: file
          })
          assert.strictEqual(fs.readFileSync(file, "utf8"), "x", "the file is left as it was")
        })
      ))

    it.live("an existing directory: listening fails with AddressInUse, connecting with ConnectionRefused", () =>
      run(
        d.make(),
        Effect.gen(function*() {
          const dir = freshDir()
          expect(yield* listenFailure(dir), {
            reason: "AddressInUse",
            code: "EADDRINUSE",
            errno: -98,
            syscall: "listen",
            address: dir
          })
          assert.strictEqual((yield* connectFailure(dir)).reason, "ConnectionRefused")
        })
      ))

    it.live("a missing directory: listening fails with AccessDenied (EACCES), connecting with NotFound", () =>
      run(
        d.make(),
        Effect.gen(function*() {
          const target = path.join(freshDir(), "missing", "sock")
          expect(yield* listenFailure(target), {
            reason: "AccessDenied",
            code: "EACCES",
            errno: -13,
            syscall: "listen",
            address: target
          })
          expect(yield* connectFailure(target), {
            reason: "NotFound",
            code: "ENOENT",
            errno: -2,
            syscall: "connect",
            address: target
          })
        })
      ))

    it.live("a regular file where a directory should be: listening and connecting fail with ENOTDIR", () =>
      run(
        d.make(),
        Effect.gen(function*() {
          const file = path.join(freshDir(), "file")
          fs.writeFileSync(file, "")
          const target = path.join(file, "sock")
          const expected = { reason: "NotFound", code: "ENOTDIR", errno: -20, address: target }
          expect(yield* listenFailure(target), { ...expected, syscall: "listen" })
          expect(yield* connectFailure(target), { ...expected, syscall: "connect" })
        })
      ))

    it.live("a fresh path in an existing directory: listening works, and the path is free again after", () =>
      run(
        d.make(),
        Effect.gen(function*() {
          const target = path.join(freshDir(), "sock")
          yield* Effect.scoped(Network.listen({ path: target }))
          const again = yield* Network.listen({ path: target })
          assert.deepStrictEqual(again.address, { _tag: "Ipc", path: target })
        })
      ))
  })
}

describe("local socket paths on a memory network of its own", () => {
  /** A file system described by a test: `/`, `/run`, a file and a stale socket file in `/run`. */
  const described: MemoryNetwork.Paths = {
    kind: (p) =>
      p === "/" || p === "/run"
        ? "directory"
        : p === "/run/app.pid"
        ? "file"
        : p === "/run/stale.sock"
        ? "socket"
        : p.startsWith("/run/app.pid/")
        ? "notDirectory"
        : "missing"
  }

  it.effect("without paths: only its own listeners occupy paths, every directory exists", () =>
    Effect.gen(function*() {
      const server = yield* Network.listen({ path: "/nowhere/at/all.sock" })
      assert.deepStrictEqual(server.address, { _tag: "Ipc", path: "/nowhere/at/all.sock" })
      assert.strictEqual((yield* listenFailure("/nowhere/at/all.sock")).reason, "AddressInUse")
      assert.strictEqual((yield* connectFailure("/nowhere/else.sock")).code, "ENOENT")
    }).pipe(Effect.scoped, Effect.provide(MemoryNetwork.layer())))

  it.effect("with paths of a test's own: each kind of entry answers as on the host", () =>
    Effect.gen(function*() {
      assert.strictEqual((yield* listenFailure("/run/app.pid")).code, "EADDRINUSE")
      assert.strictEqual((yield* listenFailure("/run/stale.sock")).code, "EADDRINUSE")
      assert.strictEqual((yield* listenFailure("/var/run/app.sock")).code, "EACCES")
      assert.strictEqual((yield* listenFailure("/run/app.pid/sock")).code, "ENOTDIR")
      assert.strictEqual((yield* connectFailure("/run/stale.sock")).code, "ECONNREFUSED")
      assert.strictEqual((yield* connectFailure("/run/none.sock")).code, "ENOENT")
      // a stale socket file nobody listens on is replaced when asked to
      const server = yield* Network.listen({ path: "/run/stale.sock", removeStaleSocket: true })
      assert.deepStrictEqual(server.address, { _tag: "Ipc", path: "/run/stale.sock" })
      const fresh = yield* Network.listen({ path: "/run/app.sock" })
      assert.deepStrictEqual(fresh.address, { _tag: "Ipc", path: "/run/app.sock" })
      // abstract names are no paths
      yield* Effect.scoped(Network.listen({ path: "\0abstract" }))
    }).pipe(Effect.scoped, Effect.provide(MemoryNetwork.layer({ paths: described }))))

  it.effect("a paths check that throws reads as a path that cannot be reached (AccessDenied)", () =>
    Effect.gen(function*() {
      const error = yield* listenFailure("/run/app.sock")
      assert.strictEqual(error.reason, "AccessDenied")
    }).pipe(
      Effect.scoped,
      Effect.provide(MemoryNetwork.layer({
        paths: {
          kind: () => {
            throw new Error("no file system here")
          }
        }
      }))
    ))
})
