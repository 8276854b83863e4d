import { assert, describe, it } from "@effect/vitest"
import type { SocketError } from "@sluice/core/NetError"
import * as Network from "@sluice/core/Network"
import * as Server from "@sluice/core/Server"
import type * as Socket from "@sluice/core/Socket"
import * as Cause from "effect/Cause"
import * as Data from "effect/Data"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { drivers } from "./drivers.ts"
import { eventually, ipcPath, run, tcpPort, text, tracked } from "./helpers.ts"

class Boom extends Data.TaggedError("Boom")<{ readonly n: number }> {}

const echo = (socket: Socket.Socket) => Stream.run(socket.reads, socket.writes)

/** Sends `message`, half-closes, reads the whole reply. */
const roundTrip = (port: number, host: string, message: string) =>
  Effect.scoped(Effect.gen(function*() {
    const client = yield* Network.connect({ host, port })
    yield* client.write(message)
    yield* client.endOfOutput
    return text(yield* Stream.runCollect(client.reads))
  }))

for (const d of drivers) {
  describe(`Server.serve on the ${d.name} driver`, () => {
    it.live("serves every connection with the handler (data-first and data-last)", () =>
      run(
        d.make(),
        Effect.gen(function*() {
          const server = yield* Network.listen({ host: d.host, port: 0 })
          const serving = yield* server.pipe(Server.serve(echo))
          const port = tcpPort(server.address)
          const replies = yield* Effect.forEach(
            ["a", "bb", "ccc", "dddd"],
            (m) => roundTrip(port, d.host, m),
            { concurrency: 4 }
          )
          assert.deepStrictEqual(replies, ["a", "bb", "ccc", "dddd"])
          const stats = yield* serving.stats
          assert.strictEqual(stats.accepted, 4)
          const other = yield* Network.listen({ host: d.host, port: 0 })
          yield* Server.serve(other, echo, { concurrency: 1 })
          assert.strictEqual(yield* roundTrip(tcpPort(other.address), d.host, "data-first"), "data-first")
        })
      ))

    it.live("bad serve options and a bad connection limit are typed InvalidOptions errors naming the field", () =>
      run(
        d.make(),
        Effect.gen(function*() {
          const server = yield* Network.listen({ host: d.host, port: 0 })
          const cases: ReadonlyArray<[Server.ServeOptions<SocketError, never>, string]> = [
            [{ concurrency: 0 }, `concurrency: expected an integer ≥ 1 or "unbounded", got 0`],
            [{ concurrency: 1.5 }, `concurrency: expected an integer ≥ 1 or "unbounded", got 1.5`],
            [{ maxConnections: -1 }, "maxConnections: expected an integer ≥ 0, got -1"],
            [{ gracePeriod: -5 }, "gracePeriod: expected a duration ≥ 0, got -5"]
          ]
          for (const [options, detail] of cases) {
            const error = yield* Effect.flip(Server.serve(server, echo, options))
            assert.strictEqual(error._tag, "ListenError")
            assert.strictEqual(error.reason, "InvalidOptions")
            assert.strictEqual(error.syscall, "serve")
            assert.include(error.message, detail)
          }
          const limit = yield* Effect.flip(server.setMaxConnections(Number.NaN))
          assert.strictEqual(limit.reason, "InvalidOptions")
          assert.include(limit.message, "maxConnections: expected an integer ≥ 0, got NaN")
          yield* server.setMaxConnections(0)
          // the server still serves after the refusals: a valid call works
          yield* server.setMaxConnections(undefined)
          yield* Server.serve(server, echo, { concurrency: 2, gracePeriod: "1 second", maxConnections: 10 })
          assert.strictEqual(yield* roundTrip(tcpPort(server.address), d.host, "ok"), "ok")
        })
      ))

    it.live("concurrency bounds the handlers running at once; waiting connections are not read", () =>
      run(
        d.make(),
        Effect.gen(function*() {
          const server = yield* Network.listen({ host: d.host, port: 0 })
          const port = tcpPort(server.address)
          const gate = yield* Deferred.make<void>()
          let running = 0
          let peak = 0
          const serving = yield* Server.serve(server, (socket) =>
            Effect.gen(function*() {
              running++
              peak = Math.max(peak, running)
              yield* Deferred.await(gate)
              yield* echo(socket)
              running--
            }), { concurrency: 2 })
          const clients = yield* Effect.forkChild(Effect.forEach(
            [1, 2, 3, 4, 5],
            (i) => roundTrip(port, d.host, `client ${i}`),
            { concurrency: 5 }
          ))
          yield* eventually(() => running === 2, "two handlers running")
          // the others are accepted by the listener, but waiting: no handler runs them
          yield* eventually(() => server.listener.connections === 5, "five connections open")
          assert.strictEqual(running, 2)
          assert.strictEqual((yield* serving.stats).active, 2)
          yield* Deferred.succeed(gate, undefined)
          const replies = yield* Fiber.join(clients)
          assert.deepStrictEqual(replies, [1, 2, 3, 4, 5].map((i) => `client ${i}`))
          assert.strictEqual(peak, 2)
          yield* eventually(() => running === 0, "all handlers done")
        })
      ))

    it.live("a connection is not read until its handler reads", () =>
      run(
        d.make(),
        Effect.gen(function*() {
          const server = yield* Network.listen({ host: d.host, port: 0 })
          const gate = yield* Deferred.make<void>()
          const seen = yield* Deferred.make<Socket.Socket>()
          yield* Server.serve(server, (socket) =>
            Effect.gen(function*() {
              yield* Deferred.succeed(seen, socket)
              yield* Deferred.await(gate)
              yield* echo(socket)
            }))
          const client = yield* Network.connect({ host: d.host, port: tcpPort(server.address) })
          yield* client.write("hello")
          yield* client.endOfOutput
          const socket = yield* Deferred.await(seen)
          // written and half-closed by the client, but nothing read on the server
          assert.strictEqual(yield* socket.bytesRead, 0)
          assert.strictEqual(yield* socket.bufferedBytes, 0)
          yield* Deferred.succeed(gate, undefined)
          assert.strictEqual(text(yield* Stream.runCollect(client.reads)), "hello")
          assert.strictEqual(yield* socket.bytesRead, 5)
        })
      ))

    it.live("maxConnections: an excess connection is closed as node:net closes it: the connect succeeds, then a clean end", () =>
      run(
        d.make(),
        Effect.gen(function*() {
          const server = yield* Network.listen({ host: d.host, port: 0 })
          const port = server.port
          const gate = yield* Deferred.make<void>()
          const serving = yield* Server.serve(
            server,
            (socket) => Effect.andThen(Deferred.await(gate), echo(socket)),
            { maxConnections: 2 }
          )
          const held = yield* Effect.forkChild(Effect.forEach(
            [1, 2],
            (i) => roundTrip(port, d.host, `kept ${i}`),
            { concurrency: 2 }
          ))
          yield* eventually(() => server.listener.connections === 2, "two connections held")
          // nothing written: the close is a FIN, which the client reads as the end of input
          const reply = yield* Effect.scoped(Effect.flatMap(
            Network.connect({ host: d.host, port }),
            (excess) => Stream.runCollect(excess.reads)
          ))
          assert.deepStrictEqual(reply, [])
          assert.strictEqual(yield* server.dropped, 1)
          assert.strictEqual((yield* serving.stats).dropped, 1)
          yield* Deferred.succeed(gate, undefined)
          assert.deepStrictEqual(yield* Fiber.join(held), ["kept 1", "kept 2"])
        })
      ))

    it.live(`dropWith: "reset": an excess connection is reset, so the client can tell it was refused`, () =>
      run(
        d.make(),
        Effect.gen(function*() {
          const server = yield* Network.listen({ host: d.host, port: 0 })
          const port = server.port
          const serving = yield* Server.serve(server, echo, { maxConnections: 1, dropWith: "reset" })
          const kept = yield* Network.connect({ host: d.host, port })
          yield* eventually(() => server.listener.connections === 1, "one connection held")
          // the RST may reach the client before its connect completes, or after
          const refused = yield* Effect.flip(Effect.scoped(Effect.flatMap(
            Network.connect({ host: d.host, port }),
            (excess) => Stream.runCollect(excess.reads)
          )))
          assert.strictEqual(refused.reason, "ConnectionReset")
          assert.strictEqual((yield* serving.stats).dropped, 1)
          // the limit set at run time drops the same way
          yield* server.setMaxConnections(0)
          yield* kept.write("still served")
          yield* kept.endOfOutput
          assert.strictEqual(text(yield* Stream.runCollect(kept.reads)), "still served")
          const again = yield* Effect.flip(Effect.scoped(Effect.flatMap(
            Network.connect({ host: d.host, port }),
            (excess) => Stream.runCollect(excess.reads)
          )))
          assert.strictEqual(again.reason, "ConnectionReset")
          assert.strictEqual(yield* server.dropped, 2)
        })
      ))

    it.live("server.port is the bound port of a TCP server, undefined for an IPC one", () =>
      run(
        d.make(),
        Effect.gen(function*() {
          const tcp = yield* Network.listen({ host: d.host, port: 0 })
          assert.isAbove(tcp.port, 0)
          assert.strictEqual(tcp.port, tcpPort(tcp.address))
          const ipc = yield* Network.listen({ path: ipcPath() })
          assert.isUndefined(ipc.port)
          assert.strictEqual(ipc.address._tag, "Ipc")
        })
      ))

    it.live("handlers observe the start of shutdown: a long-lived handler says goodbye before the grace period ends", () =>
      run(
        d.make(),
        Effect.gen(function*() {
          const scope = yield* Scope.make()
          const server = yield* Scope.provide(Network.listen({ host: d.host, port: 0 }), scope)
          const seen: Array<boolean> = []
          let signal: Server.ShutdownSignal | undefined
          const serving = yield* Scope.provide(
            Server.serve(server, (socket, shutdown) =>
              Effect.gen(function*() {
                signal = shutdown
                seen.push(yield* shutdown.isShuttingDown)
                yield* socket.write("welcome\n")
                yield* shutdown.await
                seen.push(yield* shutdown.isShuttingDown)
                yield* socket.write("bye\n")
              }), { gracePeriod: "20 seconds" }),
            scope
          )
          const client = yield* Network.connect({ host: d.host, port: server.port })
          assert.strictEqual(text(yield* client.pull), "welcome\n")
          const start = Date.now()
          const closing = yield* Effect.forkChild(Scope.close(scope, Exit.void))
          // the goodbye, then a clean end: the handler ended by itself
          assert.strictEqual(text(yield* Stream.runCollect(client.reads)), "bye\n")
          yield* Fiber.join(closing)
          assert.isBelow(Date.now() - start, 10_000)
          assert.deepStrictEqual(seen, [false, true])
          const stats = yield* serving.stats
          assert.strictEqual(stats.succeeded, 1)
          assert.strictEqual(stats.aborted, 0)
          // once shutdown began, the signal answers at once
          assert.isDefined(signal)
          if (signal !== undefined) yield* Effect.timeout(signal.await, "1 second")
        })
      ))

    it.live("a reporting policy sees every failure and defect, typed, and keeps serving", () =>
      run(
        d.make(),
        Effect.gen(function*() {
          const server = yield* Network.listen({ host: d.host, port: 0 })
          const port = tcpPort(server.address)
          const reported: Array<Server.HandlerError<unknown>> = []
          const serving = yield* Server.serve(server, (socket) =>
            Effect.gen(function*() {
              const message = text(yield* socket.pull)
              if (message === "fail") return yield* new Boom({ n: 2 })
              if (message === "die") return yield* Effect.die("defect")
              yield* socket.write(message)
            }), { onHandlerError: (error) => Effect.sync(() => reported.push(error)) })
          yield* Effect.exit(roundTrip(port, d.host, "fail"))
          yield* Effect.exit(roundTrip(port, d.host, "die"))
          assert.strictEqual(yield* roundTrip(port, d.host, "ok"), "ok")
          yield* eventually(() => reported.length === 2, "two failures reported")
          const kinds = reported.map((e) =>
            Option.match(Cause.findErrorOption(e.cause), {
              onNone: () => "defect",
              onSome: (b) => (b as { readonly _tag: string })._tag
            })
          ).toSorted()
          assert.deepStrictEqual(kinds, ["Boom", "defect"])
          const stats = yield* serving.stats
          assert.strictEqual(stats.failed, 2)
          assert.strictEqual(stats.succeeded, 1)
        })
      ))

    it.live("closing the scope shuts down gracefully: stop accepting, let handlers finish, abort the rest", () => {
      const t = tracked(d.make())
      return run(
        t.driver,
        Effect.gen(function*() {
          const scope = yield* Scope.make()
          const server = yield* Scope.provide(Network.listen({ host: d.host, port: 0 }), scope)
          const port = tcpPort(server.address)
          let started = 0
          const serving = yield* Scope.provide(
            Server.serve(server, (socket) =>
              Effect.gen(function*() {
                started++
                const first = text(yield* socket.pull)
                if (first === "slow") return yield* Effect.never
                // a quick handler: answers once the client ends
                yield* Stream.runDrain(socket.reads)
                yield* socket.write(`bye ${first}`)
              }), { gracePeriod: "1 second", onHandlerError: () => Effect.void }),
            scope
          )
          const quick = yield* Network.connect({ host: d.host, port })
          const slow = yield* Network.connect({ host: d.host, port })
          yield* quick.write("quick")
          yield* slow.write("slow")
          yield* eventually(() => started === 2, "both handlers started")
          const start = Date.now()
          const closing = yield* Effect.forkChild(Scope.close(scope, Exit.void))
          // shutdown has begun: no new connections
          yield* eventually(() => t.listening() === 0, "listener closed")
          const refused = yield* Effect.flip(Effect.scoped(Network.connect({ host: d.host, port })))
          assert.strictEqual(refused.reason, "ConnectionRefused")
          // the quick handler may still finish within the grace period
          yield* quick.endOfOutput
          assert.strictEqual(text(yield* Stream.runCollect(quick.reads)), "bye quick")
          yield* Fiber.join(closing)
          const elapsed = Date.now() - start
          assert.isAtLeast(elapsed, 990)
          assert.isBelow(elapsed, 5000)
          // the slow one was aborted
          const error = yield* Effect.flip(Stream.runDrain(slow.reads))
          assert.strictEqual(error.reason, "ConnectionReset")
          const stats = yield* serving.stats
          assert.strictEqual(stats.succeeded, 1)
          assert.strictEqual(stats.aborted, 1)
          assert.strictEqual(stats.active, 0)
          yield* serving.await
        })
      )
    })

    it.live("shutdown with nothing running is immediate and idempotent", () =>
      run(
        d.make(),
        Effect.gen(function*() {
          const server = yield* Network.listen({ host: d.host, port: 0 })
          const serving = yield* Server.serve(server, echo, { gracePeriod: "30 seconds" })
          assert.strictEqual(yield* roundTrip(tcpPort(server.address), d.host, "one"), "one")
          const start = Date.now()
          yield* serving.shutdown
          yield* serving.shutdown
          assert.isBelow(Date.now() - start, 2000)
          yield* serving.await
          const stats = yield* serving.stats
          assert.deepStrictEqual({ ...stats }, {
            accepted: 1,
            active: 0,
            succeeded: 1,
            disconnected: 0,
            failed: 0,
            aborted: 0,
            dropped: 0
          })
        })
      ))
  })
}
