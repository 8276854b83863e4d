import { assert, describe, it } from "@effect/vitest"
import type { Driver } from "@sluice/core/Driver"
import * as Network from "@sluice/core/Network"
import * as Socket from "@sluice/core/Socket"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { drivers } from "./drivers.ts"
import { eventually, ipcPath, nodeNetAppliesIpv6Only, run, tcpPort, text, tracked } from "./helpers.ts"

const takeOne = (s: Stream.Stream<Socket.Socket>) =>
  Effect.flatMap(Stream.runHead(s), (o) => (Option.isSome(o) ? Effect.succeed(o.value) : Effect.die("no connection")))

for (const d of drivers) {
  describe(`listen on the ${d.name} driver`, () => {
    it.live("port 0 binds an ephemeral port; the address is exact", () =>
      run(
        d.make(),
        Effect.gen(function*() {
          const server = yield* Network.listen({ host: "127.0.0.1", port: 0 })
          const port = tcpPort(server.address)
          assert.isAbove(port, 0)
          assert.deepStrictEqual(server.address, { _tag: "Tcp", address: "127.0.0.1", port, family: "IPv4" })
          const v6 = yield* Network.listen({ host: "::1", port: 0 })
          assert.deepStrictEqual(v6.address, { _tag: "Tcp", address: "::1", port: tcpPort(v6.address), family: "IPv6" })
        })
      ))

    it.live("without a host, listens on every interface, dual-stack where IPv6 exists", () => {
      const driver = d.make()
      return run(
        driver,
        Effect.gen(function*() {
          const server = yield* Network.listen({ port: 0 })
          const port = tcpPort(server.address)
          if (server.address._tag !== "Tcp") return assert.fail("expected TCP")
          if (driver.capabilities.ipv6) {
            assert.deepStrictEqual(server.address, { _tag: "Tcp", address: "::", port, family: "IPv6" })
          } else {
            assert.deepStrictEqual(server.address, { _tag: "Tcp", address: "0.0.0.0", port, family: "IPv4" })
          }
          const v4 = yield* Network.connect({ host: "127.0.0.1", port })
          yield* v4.write("via IPv4")
          yield* v4.endOfOutput
          const accepted = yield* takeOne(server.accept)
          assert.strictEqual(text(yield* Stream.runCollect(accepted.reads)), "via IPv4")
          if (driver.capabilities.ipv6) {
            const v6 = yield* Network.connect({ host: "::1", port })
            assert.strictEqual(v6.remoteAddress?._tag === "Tcp" && v6.remoteAddress.family, "IPv6")
          }
        })
      )
    })

    it.live("ipv6Only refuses IPv4 on a dual-stack address", () =>
      run(
        d.make(),
        Effect.gen(function*() {
          const listened = yield* Effect.exit(Network.listen({ host: "::", port: 0, ipv6Only: true }))
          if (Exit.isFailure(listened)) {
            // only where the runtime's node:net listens dual-stack whatever ipv6Only says (Deno): a typed refusal
            assert.notStrictEqual(d.name, "memory")
            assert.isFalse(yield* Effect.promise(nodeNetAppliesIpv6Only), String(listened.cause))
            const error = yield* Effect.flip(listened)
            assert.deepStrictEqual([error.reason, error.code, error.syscall], ["Unsupported", "ENOTSUP", "listen"])
            return
          }
          const port = tcpPort(listened.value.address)
          const error = yield* Effect.flip(Effect.scoped(Network.connect({ host: "127.0.0.1", port })))
          assert.strictEqual(error.reason, "ConnectionRefused")
          yield* Effect.scoped(Network.connect({ host: "::1", port }))
        })
      ))

    it.live("reusePort lets two listeners share a port", () =>
      run(
        d.make(),
        Effect.gen(function*() {
          const a = yield* Network.listen({ host: "127.0.0.1", port: 0, reusePort: true })
          const port = tcpPort(a.address)
          const b = yield* Network.listen({ host: "127.0.0.1", port, reusePort: true })
          assert.strictEqual(tcpPort(b.address), port)
        })
      ))

    it.live("listen options reach the driver (backlog, exclusive, ipv6Only, reusePort, IPC permissions)", () => {
      const t = tracked(d.make())
      return run(
        t.driver,
        Effect.gen(function*() {
          yield* Network.listen({ host: "127.0.0.1", port: 0, backlog: 7, exclusive: true, reusePort: true })
          const path = ipcPath()
          yield* Network.listen({ path, backlog: 3, readableAll: true, writableAll: true, removeStaleSocket: true })
          yield* Network.listen({ host: "127.0.0.1", port: 0 })
          assert.deepStrictEqual(t.listens, [
            { _tag: "Tcp", host: "127.0.0.1", port: 0, backlog: 7, exclusive: true, ipv6Only: false, reusePort: true },
            {
              _tag: "Ipc",
              path,
              backlog: 3,
              exclusive: false,
              readableAll: true,
              writableAll: true,
              removeStale: true
            },
            {
              _tag: "Tcp",
              host: "127.0.0.1",
              port: 0,
              backlog: 511,
              exclusive: false,
              ipv6Only: false,
              reusePort: false
            }
          ])
        })
      )
    })

    it.live("an IPC listener: exact address; its path is free again after the scope closes", () =>
      run(
        d.make(),
        Effect.gen(function*() {
          const path = ipcPath()
          yield* Effect.scoped(Effect.gen(function*() {
            const server = yield* Network.listen({ path })
            assert.deepStrictEqual(server.address, { _tag: "Ipc", path })
            const inUse = yield* Effect.flip(Network.listen({ path }))
            assert.strictEqual(inUse.reason, "AddressInUse")
          }))
          const error = yield* Effect.flip(Effect.scoped(Network.connect({ path })))
          assert.include(["NotFound", "ConnectionRefused"], error.reason)
          const again = yield* Network.listen({ path })
          assert.deepStrictEqual(again.address, { _tag: "Ipc", path })
        })
      ))

    it.live("accept is a Stream of sockets, each in its own scope", () =>
      run(
        d.make(),
        Effect.gen(function*() {
          const server = yield* Network.listen({ host: d.host, port: 0 })
          const port = tcpPort(server.address)
          const c1 = yield* Network.connect({ host: d.host, port })
          const c2 = yield* Network.connect({ host: d.host, port })
          const accepted = yield* Stream.runCollect(Stream.take(server.accept, 2))
          assert.strictEqual(accepted.length, 2)
          const [s1, s2] = accepted
          assert.isTrue(Socket.isSocket(s1))
          // closing one socket's scope ends that connection only
          yield* Scope.close(s1!.scope, Exit.void)
          const ends = yield* Effect.all([
            Effect.map(Stream.runCollect(c1.reads), text),
            Effect.map(Stream.runCollect(c2.reads), text)
          ], { concurrency: 2 }).pipe(Effect.timeoutOption("200 millis"))
          // c2's connection is still open: reading both cannot complete
          assert.isTrue(Option.isNone(ends))
          yield* s2!.write("still here")
          assert.strictEqual(text(yield* c2.pull), "still here")
          assert.strictEqual(text(yield* Stream.runCollect(c1.reads)), "")
        })
      ))

    it.live("stopAccepting ends the accept stream and refuses new connections", () => {
      const t = tracked(d.make())
      return run(
        t.driver,
        Effect.gen(function*() {
          const server = yield* Network.listen({ host: d.host, port: 0 })
          const port = tcpPort(server.address)
          let taken = 0
          const collected = yield* Effect.forkChild(
            Stream.runCollect(Stream.tap(server.accept, () => Effect.sync(() => taken++)))
          )
          yield* Network.connect({ host: d.host, port })
          yield* eventually(() => taken === 1, "accepted")
          yield* server.stopAccepting
          const sockets = yield* Fiber.join(collected)
          assert.strictEqual(sockets.length, 1)
          assert.strictEqual(t.listening(), 0)
          const error = yield* Effect.flip(Effect.scoped(Network.connect({ host: d.host, port })))
          assert.strictEqual(error.reason, "ConnectionRefused")
          yield* server.stopAccepting // idempotent
        })
      )
    })

    it.live("accept failures of the listening handle are counted and typed; the server keeps listening", () => {
      const inner = d.make()
      let fail: ((code: string) => void) | undefined
      const driver: Driver = {
        ...inner,
        listen: (target, events, cb) => {
          fail = (code) => events.onError({ code, syscall: "accept" })
          inner.listen(target, events, cb)
        }
      }
      return run(
        driver,
        Effect.gen(function*() {
          const server = yield* Network.listen({ host: d.host, port: 0 })
          assert.deepStrictEqual(yield* server.acceptFailures, { count: 0, latest: undefined })
          fail?.("EMFILE")
          const failures = yield* server.acceptFailures
          assert.strictEqual(failures.count, 1)
          assert.strictEqual(failures.latest?.reason, "TooManyOpenFiles")
          assert.strictEqual(failures.latest?.syscall, "accept")
          yield* Effect.scoped(Network.connect({ host: d.host, port: tcpPort(server.address) }))
        })
      )
    })

    it.live("bad listen options are typed InvalidOptions errors; missing capabilities are Unsupported", () => {
      const inner = d.make()
      const limited: Driver = { ...inner, capabilities: { ipc: false, fd: false, reusePort: false, ipv6: true } }
      return run(
        d.make(),
        Effect.gen(function*() {
          for (
            const [options, field] of [
              [{ port: 70000 }, "port"],
              [{ port: 0, backlog: -1 }, "backlog"],
              [{ port: 0, exclusive: "yes" as unknown as boolean }, "exclusive"],
              [{ port: 0, idleTimeout: "later" as "1 second" }, "idleTimeout"],
              [{ host: "", port: 0 }, "host"],
              [{ path: "" }, "path"]
            ] as const
          ) {
            const error = yield* Effect.flip(Network.listen(options))
            assert.strictEqual(error._tag, "ListenError")
            assert.strictEqual(error.reason, "InvalidOptions")
            assert.include(error.message, field)
          }
          const network = Network.make(limited)
          const ipc = yield* Effect.flip(network.listen({ path: ipcPath() }))
          assert.strictEqual(ipc.reason, "Unsupported")
          assert.strictEqual(ipc.code, "ENOTSUP")
          const reuse = yield* Effect.flip(network.listen({ port: 0, reusePort: true }))
          assert.strictEqual(reuse.reason, "Unsupported")
          const fd = yield* Effect.flip(network.listen({ fd: 3 }))
          assert.strictEqual(fd.reason, "Unsupported")
          const connect = yield* Effect.flip(Effect.scoped(network.connect({ path: ipcPath() })))
          assert.strictEqual(connect.reason, "Unsupported")
          assert.include(connect.message, "IPC")
        })
      )
    })
  })
}
