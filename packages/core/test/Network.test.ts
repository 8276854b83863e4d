import { assert, describe, it } from "@effect/vitest"
import * as Network from "@sluice/core/Network"
import * as Socket from "@sluice/core/Socket"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Stream from "effect/Stream"
import { drivers } from "./drivers.ts"

const decoder = new TextDecoder()
const text = (chunks: Iterable<Uint8Array>) => {
  let out = ""
  for (const c of chunks) out += decoder.decode(c, { stream: true })
  return out
}
const tcpPort = (server: { address: { _tag: string } & Record<string, unknown> }): number => {
  const a = server.address
  if (a._tag !== "Tcp") throw new Error("expected a TCP address")
  return a["port"] as number
}

for (const d of drivers) {
  describe(`Network on the ${d.name} driver`, () => {
    const provide = <A, E>(effect: Effect.Effect<A, E, Network.Network>) =>
      Effect.provide(effect, Network.layer(d.make()))

    it.live("connect, write, read the echo, half-close, close both scopes", () =>
      provide(Effect.scoped(Effect.gen(function*() {
        const server = yield* Network.listen({ host: d.host, port: 0 })
        const port = tcpPort(server)
        assert.isTrue(port > 0)
        // echo server: one connection, reads until the client half-closes, then ends
        const served = yield* server.accept.pipe(
          Stream.take(1),
          Stream.runForEach(Socket.use((s) => Stream.run(s.reads, s.writes))),
          Effect.forkScoped
        )
        const client = yield* Network.connect({ host: d.host, port })
        yield* client.write("hello, ")
        yield* client.write(new TextEncoder().encode("sluice"))
        yield* client.endOfOutput
        const echoed = yield* Stream.runCollect(client.reads)
        assert.strictEqual(text(echoed), "hello, sluice")
        assert.strictEqual(yield* client.bytesWritten, 13)
        assert.strictEqual(yield* client.bytesRead, 13)
        const exit = yield* Fiber.await(served)
        assert.isTrue(Exit.isSuccess(exit))
      }))))

    it.live("a refused connect is a typed ConnectError with reason ConnectionRefused", () =>
      provide(Effect.gen(function*() {
        // bind a port, then close it, so nobody listens there
        const port = yield* Effect.scoped(Effect.map(Network.listen({ host: d.host, port: 0 }), tcpPort))
        const error = yield* Effect.flip(Effect.scoped(Network.connect({ host: d.host, port })))
        assert.strictEqual(error._tag, "ConnectError")
        assert.strictEqual(error.reason, "ConnectionRefused")
        assert.strictEqual(error.code, "ECONNREFUSED")
        assert.strictEqual(error.syscall, "connect")
        assert.strictEqual(error.address, d.host)
        assert.strictEqual(error.port, port)
        assert.strictEqual(error.message, `connect ECONNREFUSED ${d.host}:${port} (connection refused)`)
      })))

    it.live("listening twice on one port is a typed ListenError with reason AddressInUse", () =>
      provide(Effect.scoped(Effect.gen(function*() {
        const first = yield* Network.listen({ host: d.host, port: 0 })
        const port = tcpPort(first)
        const error = yield* Effect.flip(Network.listen({ host: d.host, port }))
        assert.strictEqual(error._tag, "ListenError")
        assert.strictEqual(error.reason, "AddressInUse")
        assert.strictEqual(error.code, "EADDRINUSE")
        assert.strictEqual(error.port, port)
      }))))

    it.live("bad options are a typed InvalidOptions error naming the field", () =>
      provide(Effect.gen(function*() {
        const error = yield* Effect.flip(Effect.scoped(Network.connect({ host: d.host, port: 70000 })))
        assert.strictEqual(error.reason, "InvalidOptions")
        assert.include(error.message, "port")
        assert.include(error.message, "70000")
      })))
  })
}
