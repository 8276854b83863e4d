/**
 * What ends a served connection, and what it does to the server: the peer's
 * end of its own connection (a reset, a broken pipe, an idle timeout, an end
 * of input) ends that connection only; a handler's own failure or defect is
 * logged with its cause in the connection's span, counted, and serving goes
 * on; stopping is the explicit `"stop"` policy. Bad `serve` arguments are
 * typed `InvalidOptions` errors naming the field.
 */
import { assert, describe, it } from "@effect/vitest"
import { type ListenError, SocketError } from "@sluice/core/NetError"
import * as Network from "@sluice/core/Network"
import * as Server from "@sluice/core/Server"
import * as Socket from "@sluice/core/Socket"
import * as Cause from "effect/Cause"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as fc from "fast-check"
import { drivers } from "./drivers.ts"
import { bytes, connectedPair, eventually, recordingLogger, recordingTracer, run, text, waitFor } from "./helpers.ts"

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

/** A client that sends `message`, reads `expect` bytes back, then aborts its connection (RST). */
const resettingClient = (port: number, host: string, message: string, expect: number) =>
  Effect.gen(function*() {
    const scope = yield* Scope.make()
    const client = yield* Scope.provide(Network.connect({ host, port }), scope)
    yield* client.write(message)
    let got = 0
    while (got < expect) got += (yield* client.pull).reduce((n, c) => n + c.length, 0)
    // an interrupted scope aborts the socket: the server sees ECONNRESET
    yield* Scope.close(scope, Exit.interrupt())
  })

const errorLogs = <L extends { readonly level: string }>(logs: ReadonlyArray<L>) =>
  logs.filter((l) => l.level === "Error")

/** `Server.serve` as untyped code calls it. */
const serveUntyped = Server.serve as (
  server: Server.Server,
  handler: unknown,
  options?: unknown
) => Effect.Effect<Server.Serving<unknown>, ListenError, Scope.Scope>

for (const d of drivers) {
  describe(`Server.serve on the ${d.name} driver: the peer's end is not a failure`, () => {
    it.live("a client that resets ends only its own connection (default options): nothing logged, serving goes on", () => {
      const { logs, provide } = recordingLogger()
      return run(
        d.make(),
        provide(Effect.gen(function*() {
          const server = yield* Network.listen({ host: d.host, port: 0 })
          const serving = yield* Server.serve(server, echo)
          yield* resettingClient(server.port, d.host, "hello", 5)
          yield* eventually(() => server.listener.connections === 0, "the reset connection released")
          yield* waitFor(serving.stats, (s) => s.active === 0, "s.active === 0")
          // the server is still serving
          assert.strictEqual(yield* roundTrip(server.port, d.host, "still here"), "still here")
          const stats = yield* serving.stats
          assert.strictEqual(stats.disconnected, 1)
          assert.strictEqual(stats.failed, 0)
          assert.strictEqual(stats.succeeded, 1)
          assert.deepStrictEqual(errorLogs(logs), [])
        }))
      )
    })

    it.live("a handler writing to a client that reset (broken pipe or reset on write) ends that connection only", () =>
      run(
        d.make(),
        Effect.gen(function*() {
          const server = yield* Network.listen({ host: d.host, port: 0 })
          const chunk = bytes(16 * 1024)
          const serving = yield* Server.serve(server, (socket) => Effect.forever(socket.write(chunk)))
          yield* resettingClient(server.port, d.host, "go", 64 * 1024)
          yield* waitFor(serving.stats, (s) => s.disconnected + s.failed === 1, "s.disconnected + s.failed === 1")
          const stats = yield* serving.stats
          assert.strictEqual(stats.disconnected, 1)
          assert.strictEqual(stats.failed, 0)
          assert.strictEqual(
            yield* Effect.scoped(Effect.map(Network.connect({ host: d.host, port: server.port }), () => "connected")),
            "connected"
          )
        })
      ))

    it.live("the idle timeout ends that connection only", () =>
      run(
        d.make(),
        Effect.gen(function*() {
          // long enough that the round trip below never idles that long, even on a loaded machine
          const server = yield* Network.listen({ host: d.host, port: 0, idleTimeout: "250 millis" })
          const serving = yield* Server.serve(server, echo)
          const idle = yield* Network.connect({ host: d.host, port: server.port })
          // the server's idle timer aborts the connection: the client sees a reset
          const error = yield* Effect.flip(Stream.runDrain(idle.reads))
          assert.strictEqual(error.reason, "ConnectionReset")
          yield* waitFor(serving.stats, (s) => s.active === 0, "s.active === 0")
          const stats = yield* serving.stats
          assert.strictEqual(stats.disconnected, 1)
          assert.strictEqual(stats.failed, 0)
          assert.strictEqual(yield* roundTrip(server.port, d.host, "quick"), "quick")
        })
      ))

    it.live("a handler that pulls past the client's end ends gracefully: its reply arrives, no reset", () =>
      run(
        d.make(),
        Effect.gen(function*() {
          const server = yield* Network.listen({ host: d.host, port: 0 })
          const serving = yield* Server.serve(server, (socket) =>
            Effect.gen(function*() {
              const first = text(yield* socket.pull)
              yield* socket.write(first.toUpperCase())
              // the client has half-closed: this pull fails with Cause.Done
              yield* socket.pull
            }))
          assert.strictEqual(yield* roundTrip(server.port, d.host, "abc"), "ABC")
          yield* waitFor(serving.stats, (s) => s.active === 0, "s.active === 0")
          const stats = yield* serving.stats
          assert.strictEqual(stats.disconnected, 1)
          assert.strictEqual(stats.failed, 0)
        })
      ))
  })

  describe(`Socket.isPeerEnd on the ${d.name} driver`, () => {
    it.live("is true for the socket's own end of input and reset, false for another socket's, a copy, or Closed", () =>
      run(
        d.make(),
        Effect.gen(function*() {
          const { client, peer } = yield* connectedPair(d.host)
          yield* client.write("x")
          yield* client.endOfOutput
          assert.strictEqual(text(yield* peer.pull), "x")
          const end = yield* Effect.flip(peer.pull)
          assert.isTrue(Cause.isDone(end))
          assert.isTrue(Socket.isPeerEnd(peer, end))
          // the client's reader has not reached an end: not its end
          assert.isFalse(Socket.isPeerEnd(client, end))

          const other = yield* connectedPair(d.host)
          yield* Scope.close(other.client.scope, Exit.interrupt())
          const reset = yield* Effect.flip(Stream.runDrain(other.peer.reads))
          assert.strictEqual(reset.reason, "ConnectionReset")
          assert.isTrue(Socket.isPeerEnd(other.peer, reset))
          assert.isFalse(Socket.isPeerEnd(peer, reset))
          assert.isFalse(Socket.isPeerEnd(other.peer, new SocketError({ ...reset })))
          assert.isFalse(Socket.isPeerEnd(other.peer, "ConnectionReset"))

          // a read after the socket's own scope closed fails with Closed: the code's doing
          yield* Scope.close(client.scope, Exit.void)
          const closed = yield* Effect.flip(client.pull)
          assert.isTrue(!Cause.isDone(closed) && closed.reason === "Closed")
          assert.isFalse(Socket.isPeerEnd(client, closed))
        })
      ))
  })

  describe(`Server.serve on the ${d.name} driver: a handler's own failure`, () => {
    it.live("is logged with its cause in the connection's span, counted, and serving goes on (default options)", () => {
      const { logs, provide } = recordingLogger()
      const { spans, tracer } = recordingTracer()
      return run(
        d.make(),
        provide(
          Effect.gen(function*() {
            const server = yield* Network.listen({ host: d.host, port: 0 })
            const serving = yield* Server.serve(server, (socket) =>
              Effect.gen(function*() {
                const message = text(yield* socket.pull)
                if (message === "fail") return yield* new Boom({ n: 1 })
                if (message === "parse") JSON.parse("{ not json")
                // an error like a peer's, but made by the handler: its own failure
                if (message === "fake") {
                  return yield* new SocketError({ reason: "ConnectionReset", code: "ECONNRESET", syscall: "read" })
                }
                yield* socket.write(message)
              }))
            for (const message of ["fail", "parse", "fake"]) {
              // the failed handler's socket is aborted: an empty reply or a reset
              const exit = yield* Effect.exit(roundTrip(server.port, d.host, message))
              assert.isTrue(Exit.isFailure(exit) || exit.value === "", message)
            }
            assert.strictEqual(yield* roundTrip(server.port, d.host, "ok"), "ok")
            yield* waitFor(serving.stats, (s) => s.active === 0 && s.failed === 3, "s.active === 0 && s.failed === 3")
            const stats = yield* serving.stats
            assert.strictEqual(stats.succeeded, 1)
            assert.strictEqual(stats.disconnected, 0)
            const errors = errorLogs(logs)
            assert.strictEqual(errors.length, 3)
            for (const log of errors) assert.match(log.message, /^connection handler for 127\.0\.0\.1:\d+ failed$/)
            const causes = errors.map((l) => Cause.pretty(l.cause)).join("\n")
            assert.include(causes, "Boom")
            assert.include(causes, "SyntaxError")
            assert.include(causes, "ECONNRESET")
            // each log is an event of its connection's span, with the cause and the peer
            const failedSpans = spans.filter((s) =>
              s.name === "sluice.connection" && s.attributes.get("sluice.outcome") === "failure"
            )
            assert.strictEqual(failedSpans.length, 3)
            for (const span of failedSpans) {
              const event = span.events.find(([name]) => name.startsWith("connection handler for"))
              assert.isDefined(event)
              assert.strictEqual(event?.[2]["effect.logLevel"], "ERROR")
              assert.isString(event?.[2]["effect.cause"])
              assert.strictEqual(event?.[2]["sluice.peer"], `${d.host}:${span.attributes.get("net.peer.port")}`)
            }
          }).pipe(Effect.withTracer(tracer))
        )
      )
    })

    it.live(`"stop" shuts the server down; await fails with the typed HandlerError`, () =>
      run(
        d.make(),
        Effect.gen(function*() {
          const server = yield* Network.listen({ host: d.host, port: 0 })
          const port = server.port
          const serving = yield* Server.serve(server, (socket) =>
            Effect.gen(function*() {
              const first = yield* socket.pull
              if (text(first) === "fail") return yield* new Boom({ n: 1 })
              yield* socket.write(first[0]!)
            }), { onHandlerError: "stop" })
          const exit = yield* Effect.exit(roundTrip(port, d.host, "fail"))
          assert.isTrue(Exit.isFailure(exit) || exit.value === "")
          const error = yield* Effect.flip(serving.await)
          assert.strictEqual(error._tag, "HandlerError")
          const boom = Cause.findErrorOption(error.cause)
          assert.isTrue(Option.isSome(boom) && boom.value._tag === "Boom" && boom.value.n === 1)
          assert.strictEqual(error.remoteAddress?._tag, "Tcp")
          assert.include(error.message, "Boom")
          assert.strictEqual((yield* serving.stats).failed, 1)
          const refused = yield* Effect.flip(Effect.scoped(Network.connect({ host: d.host, port })))
          assert.strictEqual(refused.reason, "ConnectionRefused")
        })
      ))

    it.live(`"stop" does not stop for a peer's reset`, () =>
      run(
        d.make(),
        Effect.gen(function*() {
          const server = yield* Network.listen({ host: d.host, port: 0 })
          const serving = yield* Server.serve(server, echo, { onHandlerError: "stop" })
          yield* resettingClient(server.port, d.host, "x", 1)
          yield* waitFor(serving.stats, (s) => s.disconnected === 1, "s.disconnected === 1")
          assert.strictEqual(yield* roundTrip(server.port, d.host, "on"), "on")
        })
      ))
  })
}

describe("Server.serve arguments", () => {
  const valid = (u: unknown, choices: ReadonlyArray<unknown>) => u === undefined || choices.includes(u)

  it.live("a handler that is not a function, and onHandlerError or dropWith outside their choices, are typed InvalidOptions naming the field", () =>
    run(
      drivers[drivers.length - 1]!.make(),
      Effect.gen(function*() {
        const server = yield* Network.listen({ host: "127.0.0.1", port: 0 })
        const values = fc.sample(fc.anything({ withNullPrototype: true, withBigInt: true }), { numRuns: 120, seed: 14 })
        for (const value of ["notfn", 5, null, undefined, {}, [], ...values]) {
          if (typeof value === "function") continue
          const error = yield* Effect.flip(serveUntyped(server, value))
          assert.strictEqual(error.reason, "InvalidOptions")
          assert.strictEqual(error.syscall, "serve")
          assert.match(error.message, /: handler: expected a function, got /)
        }
        for (const value of ["crash", 5, null, {}, [], true, ...values]) {
          if (typeof value === "function" || valid(value, ["log", "stop"])) continue
          const error = yield* Effect.flip(serveUntyped(server, echo, { onHandlerError: value }))
          assert.strictEqual(error.reason, "InvalidOptions")
          assert.match(error.message, /: onHandlerError: expected "log", "stop" or a function, got /)
        }
        for (const value of ["rst", 0, null, {}, ...values]) {
          if (valid(value, ["close", "reset"])) continue
          const error = yield* Effect.flip(serveUntyped(server, echo, { dropWith: value }))
          assert.strictEqual(error.reason, "InvalidOptions")
          assert.match(error.message, /: dropWith: expected "close" or "reset", got /)
        }
        const notObject = yield* Effect.flip(serveUntyped(server, echo, 5))
        assert.include(notObject.message, "options: expected an object, got 5")
        const named = yield* Effect.flip(serveUntyped(server, echo, { onHandlerError: 5 }))
        assert.include(named.message, "onHandlerError: expected \"log\", \"stop\" or a function, got 5")
        const notFn = yield* Effect.flip(serveUntyped(server, "notfn"))
        assert.include(notFn.message, "handler: expected a function, got \"notfn\"")
        // nothing was served by the refused calls; valid choices are accepted
        yield* Server.serve(server, echo, { onHandlerError: "log", dropWith: "reset" })
        assert.strictEqual(yield* roundTrip(server.port, "127.0.0.1", "valid"), "valid")
        for (const onHandlerError of ["stop", () => Effect.void] as const) {
          const other = yield* Network.listen({ host: "127.0.0.1", port: 0 })
          yield* Server.serve(other, echo, { onHandlerError, dropWith: "close" })
          assert.strictEqual(yield* roundTrip(other.port, "127.0.0.1", "valid"), "valid")
        }
      })
    ))
})
