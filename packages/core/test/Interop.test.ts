import { assert, describe, it } from "@effect/vitest"
import * as Interop from "@sluice/core/Interop"
import * as Network from "@sluice/core/Network"
import * as Testing from "@sluice/core/Testing"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Rpc from "effect/rpc/Rpc"
import * as RpcClient from "effect/rpc/RpcClient"
import * as RpcGroup from "effect/rpc/RpcGroup"
import * as RpcSerialization from "effect/rpc/RpcSerialization"
import * as RpcServer from "effect/rpc/RpcServer"
import * as Schema from "effect/Schema"
import * as Scope from "effect/Scope"
import * as EffectSocket from "effect/socket/Socket"
import * as SocketServer from "effect/socket/SocketServer"
import * as Stream from "effect/Stream"
import type * as Tracer from "effect/Tracer"
import { drivers } from "./drivers.ts"
import { bytes, eventually, recordingLogger, recordingTracer, run, tcpPort, text, utf8 } from "./helpers.ts"

const Shout = Rpc.make("Shout", { payload: { text: Schema.String }, success: Schema.String })
const Divide = Rpc.make("Divide", {
  payload: { a: Schema.Number, b: Schema.Number },
  success: Schema.Number,
  error: Schema.String
})
const Count = Rpc.make("Count", { payload: { upTo: Schema.Number }, success: Schema.Number, stream: true })
const Api = RpcGroup.make(Shout, Divide, Count)

const Handlers = Api.toLayer(Effect.succeed({
  Shout: ({ text }) => Effect.succeed(text.toUpperCase()),
  Divide: ({ a, b }) => (b === 0 ? Effect.fail("division by zero") : Effect.succeed(a / b)),
  Count: ({ upTo }) => Stream.range(1, upTo)
}))

const portOf = (address: SocketServer.SocketServer["Service"]["address"]): number => {
  if (address._tag === "UnixPathAddress") throw new Error("expected an internet address")
  return address.port
}

for (const d of drivers) {
  describe(`interop with effect/socket on the ${d.name} driver`, () => {
    it.live("an effect/rpc client and server run over Sluice sockets", () =>
      run(
        d.make(),
        Effect.gen(function*() {
          const socketServer = yield* Interop.makeSocketServer({ host: d.host, port: 0 })
          yield* Layer.build(
            RpcServer.layer(Api).pipe(
              Layer.provide(Handlers),
              Layer.provide(RpcServer.layerProtocolSocketServer),
              Layer.provide(Layer.succeed(SocketServer.SocketServer)(socketServer)),
              Layer.provide(RpcSerialization.layerNdjson)
            )
          )
          const socket = yield* Interop.makeEffectSocket({ host: d.host, port: portOf(socketServer.address) })
          // built in the test's scope: the protocol's read loop lives as long as the test
          const protocol = yield* Layer.build(
            RpcClient.layerProtocolSocket().pipe(
              Layer.provide(Layer.succeed(EffectSocket.Socket)(socket)),
              Layer.provide(RpcSerialization.layerNdjson)
            )
          )
          const client = yield* RpcClient.make(Api).pipe(Effect.provide(protocol))
          assert.strictEqual(yield* client.Shout({ text: "over sluice" }), "OVER SLUICE")
          assert.strictEqual(yield* client.Divide({ a: 9, b: 3 }), 3)
          assert.strictEqual(yield* Effect.flip(client.Divide({ a: 1, b: 0 })), "division by zero")
          const counted = yield* Stream.runCollect(client.Count({ upTo: 5 }))
          assert.deepStrictEqual(counted, [1, 2, 3, 4, 5])
          const many = yield* Effect.forEach(
            Array.from({ length: 50 }, (_, i) => i),
            (i) => client.Shout({ text: `n${i}` }),
            { concurrency: 10 }
          )
          assert.strictEqual(many[49], "N49")
        })
      ))

    it.live("toEffectSocket: a clean end is a close with code 1000, writes reach the peer, releasing the writer half-closes", () =>
      run(
        d.make(),
        Effect.gen(function*() {
          const server = yield* Network.listen({ host: d.host, port: 0 })
          const client = yield* Network.connect({ host: d.host, port: tcpPort(server.address) })
          const peer = yield* Effect.flatMap(Stream.runHead(server.accept), Effect.fromOption)
          const effectSocket = Interop.toEffectSocket(client)
          assert.isTrue(EffectSocket.isSocket(effectSocket))
          const readScope = yield* Scope.make()
          const reader = yield* Scope.provide(effectSocket.reader, readScope)
          yield* Effect.scoped(Effect.gen(function*() {
            const writer = yield* effectSocket.writer
            yield* writer.write("text, ")
            yield* writer.writeAll([utf8("then "), "bytes"] as const)
          }))
          assert.strictEqual(text(yield* Stream.runCollect(peer.reads)), "text, then bytes")
          yield* peer.write("reply")
          yield* peer.endOfOutput
          assert.strictEqual(text((yield* reader.pull).map((c) => typeof c === "string" ? utf8(c) : c)), "reply")
          const end = yield* Effect.flip(reader.pull)
          assert.strictEqual(end.reason._tag, "SocketCloseError")
          if (end.reason._tag === "SocketCloseError") assert.strictEqual(end.reason.code, 1000)
          const upgrade = yield* Effect.flip(reader.upgrade())
          assert.strictEqual(upgrade.reason._tag, "SocketUpgradeError")
          yield* Scope.close(readScope, Exit.void)
        })
      ))

    it.live("makeEffectSocket: a refused connect is a SocketOpenError carrying the Sluice error", () =>
      run(
        d.make(),
        Effect.gen(function*() {
          const port = yield* Effect.scoped(
            Effect.map(Network.listen({ host: d.host, port: 0 }), (s) => tcpPort(s.address))
          )
          const socket = yield* Interop.makeEffectSocket({ host: d.host, port })
          const error = yield* Effect.flip(Effect.scoped(socket.reader))
          assert.strictEqual(error.reason._tag, "SocketOpenError")
          if (error.reason._tag === "SocketOpenError") {
            assert.strictEqual(error.reason.kind, "Unknown")
            const cause = error.reason.cause as { readonly reason?: string }
            assert.strictEqual(cause.reason, "ConnectionRefused")
          }
        })
      ))

    it.live("makeSocketServer: listening on a taken port is a SocketServerOpenError", () =>
      run(
        d.make(),
        Effect.gen(function*() {
          const taken = yield* Network.listen({ host: d.host, port: 0 })
          const error = yield* Effect.flip(Interop.makeSocketServer({ host: d.host, port: tcpPort(taken.address) }))
          assert.strictEqual(error.reason._tag, "SocketServerOpenError")
        })
      ))
  })
}

/** The `sluice.connection` spans that ended, with their outcome. */
const endedConnections = (spans: ReadonlyArray<Tracer.NativeSpan>) =>
  spans.filter((s) => s.name === "sluice.connection" && s.status._tag === "Ended").map((s) =>
    s.attributes.get("sluice.outcome")
  )

/** An effect/socket echo handler, as effect's own docs write one. */
const effectEcho = (socket: EffectSocket.Socket) =>
  Effect.scoped(Effect.gen(function*() {
    const pull = yield* EffectSocket.readerBytes(socket)
    const writer = yield* socket.writer
    while (true) yield* writer.writeAll(yield* pull)
  }))

for (const d of drivers) {
  describe(`interop with effect/socket on the ${d.name} driver: closes are graceful`, () => {
    it.live("an effect/socket echo handler served by layerSocketServer delivers its echo; its normal close is not a failure", () => {
      const { logs, provide } = recordingLogger()
      const { spans, tracer } = recordingTracer()
      return run(
        d.make(),
        provide(
          Effect.gen(function*() {
            const context = yield* Layer.build(Interop.layerSocketServer({ host: d.host, port: 0 }))
            const socketServer = Context.get(context, SocketServer.SocketServer)
            yield* Effect.forkScoped(socketServer.run(effectEcho))
            const client = yield* Network.connect({ host: d.host, port: portOf(socketServer.address) })
            const payload = bytes(200_000, 3)
            const reply = yield* Effect.forkChild(Stream.runCollect(client.reads))
            yield* client.write(payload)
            yield* client.endOfOutput
            // the whole echo, then a clean end (no ECONNRESET)
            const echoed = yield* Fiber.join(reply)
            assert.strictEqual(echoed.reduce((n, c) => n + c.length, 0), payload.length)
            yield* eventually(() => endedConnections(spans).length === 1, "the connection's span ended")
            assert.deepStrictEqual(endedConnections(spans), ["success"])
            assert.deepStrictEqual(logs.filter((l) => l.level === "Error"), [])
          }).pipe(Effect.withTracer(tracer))
        )
      )
    })

    it.live("effect/rpc: a client that disconnects normally closes with FIN; the server logs no handler failure", () => {
      const { logs, provide } = recordingLogger()
      const { spans, tracer } = recordingTracer()
      return run(
        d.make(),
        provide(
          Effect.gen(function*() {
            const t = yield* Layer.build(
              RpcServer.layer(Api).pipe(
                Layer.provide(Handlers),
                Layer.provide(RpcServer.layerProtocolSocketServer),
                Layer.provideMerge(Interop.layerSocketServer({ host: d.host, port: 0 })),
                Layer.provide(RpcSerialization.layerNdjson)
              )
            )
            const address = Context.get(t, SocketServer.SocketServer).address
            for (const round of [1, 2]) {
              const clientScope = yield* Scope.make()
              const socket = yield* Interop.makeEffectSocket({ host: d.host, port: portOf(address) })
              const protocol = yield* Layer.build(
                RpcClient.layerProtocolSocket().pipe(
                  Layer.provide(Layer.succeed(EffectSocket.Socket)(socket)),
                  Layer.provide(RpcSerialization.layerNdjson)
                )
              ).pipe(Scope.provide(clientScope))
              const client = yield* RpcClient.make(Api).pipe(Effect.provide(protocol), Scope.provide(clientScope))
              assert.strictEqual(yield* client.Shout({ text: `round ${round}` }), `ROUND ${round}`)
              // the client goes away: its read loop is interrupted, its socket closed
              yield* Scope.close(clientScope, Exit.void)
              yield* eventually(() => endedConnections(spans).length === round, "the server's handler ended")
            }
            assert.deepStrictEqual(endedConnections(spans), ["success", "success"])
            assert.deepStrictEqual(logs.filter((l) => l.level === "Error").map((l) => l.message), [])
          }).pipe(Effect.withTracer(tracer))
        )
      )
    })

    it.live("interrupting the run at shutdown interrupts its handlers at once and closes each connection with FIN, not RST", () =>
      run(
        d.make(),
        Effect.gen(function*() {
          const serverScope = yield* Scope.make()
          const socketServer = yield* Interop.makeSocketServer({ host: d.host, port: 0 }).pipe(
            Scope.provide(serverScope)
          )
          const received = yield* Deferred.make<string>()
          // reads forever (no writer, whose release would half-close first): only interruption ends it
          yield* socketServer.run((socket) =>
            Effect.scoped(Effect.gen(function*() {
              const pull = yield* EffectSocket.readerBytes(socket)
              while (true) yield* Deferred.succeed(received, text(yield* pull))
            }))
          ).pipe(Effect.forkIn(serverScope))
          const client = yield* Network.connect({ host: d.host, port: portOf(socketServer.address) })
          yield* client.write("ping")
          assert.strictEqual(yield* Deferred.await(received), "ping")
          const start = Date.now()
          yield* Scope.close(serverScope, Exit.void)
          // as effect's own SocketServer: no grace period by default (the handler would never end by itself)
          assert.isBelow(Date.now() - start, 5000)
          // a clean end of input, not ConnectionReset
          assert.deepStrictEqual(yield* Stream.runCollect(client.reads), [])
        })
      ))
  })
}

describe("interop with effect/socket on the memory network under TestClock", () => {
  it.effect("closing an Interop server with a client connected completes without moving the clock", () =>
    Testing.run(
      Testing.layerMemory(),
      Effect.gen(function*() {
        const serverScope = yield* Scope.make()
        const socketServer = yield* Interop.makeSocketServer({ host: "127.0.0.1", port: 0 }).pipe(
          Scope.provide(serverScope)
        )
        const received = yield* Deferred.make<void>()
        yield* socketServer.run((socket) =>
          Effect.scoped(Effect.gen(function*() {
            const pull = yield* EffectSocket.readerBytes(socket)
            while (true) yield* Effect.andThen(pull, Deferred.succeed(received, undefined))
          }))
        ).pipe(Effect.forkIn(serverScope))
        const client = yield* Network.connect({ host: "127.0.0.1", port: portOf(socketServer.address) })
        yield* client.write("x")
        yield* Deferred.await(received)
        // no TestClock.adjust: a grace period in virtual time would hang here
        yield* Scope.close(serverScope, Exit.void)
        assert.deepStrictEqual(yield* Stream.runCollect(client.reads), [])
      })
    ))
})
