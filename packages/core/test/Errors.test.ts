import { assert, describe, it } from "@effect/vitest"
import type { LookupAddress } from "@sluice/core/Driver"
import * as NetError from "@sluice/core/NetError"
import * as Network from "@sluice/core/Network"
import * as Effect from "effect/Effect"
import { drivers } from "./drivers.ts"
import { ipcPath, run, tcpPort } from "./helpers.ts"

describe("NetError", () => {
  it("classifies errno codes into reasons", () => {
    const table: ReadonlyArray<readonly [string, NetError.Reason]> = [
      ["ECONNREFUSED", "ConnectionRefused"],
      ["EADDRINUSE", "AddressInUse"],
      ["EADDRNOTAVAIL", "AddressNotAvailable"],
      ["ENOTFOUND", "HostNotFound"],
      ["EAI_AGAIN", "HostNotFound"],
      ["ETIMEDOUT", "TimedOut"],
      ["ECONNRESET", "ConnectionReset"],
      ["ECONNABORTED", "ConnectionAborted"],
      ["EPIPE", "BrokenPipe"],
      ["EACCES", "AccessDenied"],
      ["EPERM", "AccessDenied"],
      ["ENETUNREACH", "NetworkUnreachable"],
      ["EHOSTUNREACH", "HostUnreachable"],
      ["ENOENT", "NotFound"],
      ["EMFILE", "TooManyOpenFiles"],
      ["EINVAL", "InvalidOptions"],
      ["ENOTSUP", "Unsupported"],
      ["ERR_SOCKET_CLOSED", "Closed"],
      ["EWHATEVER", "Unknown"]
    ]
    for (const [code, reason] of table) assert.strictEqual(NetError.classify(code), reason, code)
  })

  it("builds readable messages with errno, meaning, address and detail", () => {
    const e = new NetError.SocketError(
      NetError.fieldsFromDriver({ code: "ECONNRESET", syscall: "read", address: "::1", port: 80 }, "while echoing")
    )
    assert.strictEqual(e.message, "read ECONNRESET ::1:80 (connection reset by peer): while echoing")
    assert.strictEqual(e.errno, -104)
    assert.strictEqual(e.reason, "ConnectionReset")
    const unknown = new NetError.ListenError(NetError.fieldsFromDriver({ code: "EWEIRD", syscall: "listen" }))
    assert.strictEqual(unknown.message, "listen EWEIRD")
    assert.strictEqual(unknown.reason, "Unknown")
  })
})

for (const d of drivers) {
  describe(`errors provoked on the ${d.name} driver`, () => {
    it.live("ConnectionRefused carries code, errno, syscall, address, port, cause and a message", () =>
      run(
        d.make(),
        Effect.gen(function*() {
          const port = yield* Effect.scoped(
            Effect.map(Network.listen({ host: d.host, port: 0 }), (s) => tcpPort(s.address))
          )
          const error = yield* Effect.flip(Effect.scoped(Network.connect({ host: d.host, port })))
          assert.strictEqual(error._tag, "ConnectError")
          assert.strictEqual(error.reason, "ConnectionRefused")
          assert.strictEqual(error.code, "ECONNREFUSED")
          assert.strictEqual(error.errno, -111)
          assert.strictEqual(error.syscall, "connect")
          assert.strictEqual(error.address, d.host)
          assert.strictEqual(error.port, port)
          assert.isDefined(error.cause)
          assert.strictEqual(error.message, `connect ECONNREFUSED ${d.host}:${port} (connection refused)`)
          assert.deepStrictEqual(error.attempts?.map((a) => a.outcome), ["failed"])
        })
      ))

    it.live("AddressInUse on listen", () =>
      run(
        d.make(),
        Effect.gen(function*() {
          const first = yield* Network.listen({ host: d.host, port: 0 })
          const port = tcpPort(first.address)
          const error = yield* Effect.flip(Network.listen({ host: d.host, port }))
          assert.strictEqual(error._tag, "ListenError")
          assert.strictEqual(error.reason, "AddressInUse")
          assert.strictEqual(error.code, "EADDRINUSE")
          assert.strictEqual(error.syscall, "listen")
          assert.strictEqual(error.address, d.host)
          assert.strictEqual(error.port, port)
          assert.include(error.message, "address already in use")
        })
      ))

    it.live("AddressInUse on an IPC path: the path, no port", () =>
      run(
        d.make(),
        Effect.gen(function*() {
          const path = ipcPath("taken")
          yield* Network.listen({ path })
          const error = yield* Effect.flip(Network.listen({ path }))
          assert.strictEqual(error.reason, "AddressInUse")
          assert.strictEqual(error.address, path)
          assert.isUndefined(error.port)
          assert.strictEqual(error.message, `listen EADDRINUSE ${path} (address already in use)`)
        })
      ))

    it.live("ConnectionRefused on port 0: no port in the error, as node reports it", () =>
      run(
        d.make(),
        Effect.gen(function*() {
          const error = yield* Effect.flip(Effect.scoped(Network.connect({ host: d.host, port: 0 })))
          assert.strictEqual(error.reason, "ConnectionRefused")
          assert.strictEqual(error.address, d.host)
          assert.isUndefined(error.port)
        })
      ))

    it.live("HostNotFound when a name resolves to nothing", () =>
      run(
        d.make(),
        Effect.gen(function*() {
          const empty = (_h: string, _o: unknown, cb: (e: undefined, a: ReadonlyArray<LookupAddress>) => void) =>
            cb(undefined, [])
          const error = yield* Effect.flip(
            Effect.scoped(Network.connect({ host: "nowhere.test", port: 80, lookup: empty }))
          )
          assert.strictEqual(error.reason, "HostNotFound")
          assert.strictEqual(error.code, "ENOTFOUND")
          assert.strictEqual(error.syscall, "getaddrinfo")
          assert.strictEqual(error.address, "nowhere.test")
          assert.include(error.message, "name lookup failed")
        })
      ))

    it.live("InvalidOptions (EINVAL on bind) when the local address is of the other family", () =>
      run(
        d.make(),
        Effect.gen(function*() {
          const server = yield* Network.listen({ host: "127.0.0.1", port: 0 })
          const error = yield* Effect.flip(
            Effect.scoped(Network.connect({ host: "127.0.0.1", port: tcpPort(server.address), localAddress: "::1" }))
          )
          assert.strictEqual(error.reason, "InvalidOptions")
          assert.strictEqual(error.code, "EINVAL")
          assert.strictEqual(error.errno, -22)
          assert.strictEqual(error.syscall, "bind")
          assert.strictEqual(error.address, "::1")
          assert.deepStrictEqual(error.attempts?.map((a) => a.outcome), ["failed"])
        })
      ))

    it.live("NotFound when an IPC path has no socket", () =>
      run(
        d.make(),
        Effect.gen(function*() {
          const path = ipcPath("missing")
          const error = yield* Effect.flip(Effect.scoped(Network.connect({ path })))
          assert.strictEqual(error.reason, "NotFound")
          assert.strictEqual(error.code, "ENOENT")
          assert.strictEqual(error.syscall, "connect")
          assert.strictEqual(error.address, path)
        })
      ))

    it.live("TimedOut, ConnectionReset, BrokenPipe and Closed on a live socket", () =>
      run(
        d.make(),
        Effect.gen(function*() {
          const server = yield* Network.listen({ host: d.host, port: 0 })
          const port = tcpPort(server.address)
          const client = yield* Network.connect({ host: d.host, port, idleTimeout: "50 millis" })
          const timedOut = yield* Effect.flip(client.pull)
          assert.strictEqual(timedOut._tag, "SocketError")
          if (timedOut._tag === "SocketError") {
            assert.strictEqual(timedOut.reason, "TimedOut")
            assert.strictEqual(timedOut.code, "ETIMEDOUT")
          }
          const other = yield* Network.connect({ host: d.host, port })
          yield* other.endOfOutput
          const broken = yield* Effect.flip(other.write("after end"))
          assert.strictEqual(broken.reason, "BrokenPipe")
          assert.strictEqual(broken.code, "EPIPE")
          assert.strictEqual(broken.syscall, "write")
        })
      ))
  })
}
