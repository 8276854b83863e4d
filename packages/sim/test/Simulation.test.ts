import { assert, describe, it } from "@effect/vitest"
import { Network, Server, Socket } from "@sluice/core"
import { Simulation } from "@sluice/sim"
import { Clock, Effect, Layer, Stream } from "effect"

const echo = (socket: Socket.Socket) => Stream.run(socket.reads, socket.writes)

/** An echo server on port 7000 of the host it runs on. */
const EchoServer = Layer.effectDiscard(Effect.gen(function*() {
  const server = yield* Network.listen({ port: 7000 })
  yield* Server.serve(server, echo, { gracePeriod: 0 })
}))

const roundTrip = (network: Network.NetworkShape, host: string, text: string, options?: Network.ConnectOptions) =>
  Effect.scoped(Effect.gen(function*() {
    const socket = yield* network.connect({ host, port: 7000, ...options })
    yield* socket.write(text)
    yield* socket.endOfOutput
    return yield* Stream.mkString(Stream.decodeText(socket.reads))
  }))

describe("Simulation", () => {
  it.effect("hosts dial from their own address and reach each other by name", () =>
    Simulation.run({ hosts: ["a", "b"], seed: 3 }, (sim) =>
      Effect.gen(function*() {
        yield* sim.start("b", EchoServer)
        const reply = yield* sim.drive(roundTrip(sim.host("a").network, "b", "ping"), "1 second")
        assert.strictEqual(reply, "ping")
        const trace = sim.traceOf("a").join("\n")
        assert.match(trace, /c1 connect a:\d+ -> b:7000/)
      })))

  it.effect("a killed host's peers see RST when they write, silence otherwise, refused connects; a restart serves again", () =>
    Simulation.run({ hosts: ["a", "b"] }, (sim) =>
      Effect.gen(function*() {
        yield* sim.start("b", EchoServer)
        const a = sim.host("a").network
        const writer = yield* a.connect({ host: "b", port: 7000 })
        const idle = yield* a.connect({ host: "b", port: 7000, idleTimeout: "30 seconds" })
        yield* sim.advance("10 millis")
        yield* sim.kill("b")
        assert.isFalse(sim.host("b").alive)
        // the next write reaches a vanished end: RST
        yield* writer.write("x")
        const error = yield* Effect.flip(sim.drive(Stream.runDrain(writer.reads), "1 second"))
        assert.strictEqual(error._tag === "SocketError" ? error.reason : "", "ConnectionReset")
        // an idle peer hears nothing until its own idle timeout
        const silent = yield* Effect.flip(sim.drive(Stream.runDrain(idle.reads), "1 minute"))
        assert.strictEqual(silent._tag === "SocketError" ? silent.reason : "", "TimedOut")
        const refused = yield* Effect.flip(Effect.scoped(a.connect({ host: "b", port: 7000 })))
        assert.strictEqual(refused.reason, "ConnectionRefused")
        yield* sim.restart("b")
        assert.strictEqual(yield* sim.drive(roundTrip(a, "b", "again"), "1 second"), "again")
        assert.match(sim.traceOf("b").join("\n"), /kill b[\s\S]*vanished[\s\S]*revive b/)
      })))

  it.effect("the same seed gives the same trace; the trace names hosts and link faults", () =>
    Effect.gen(function*() {
      const once = Simulation.run({ hosts: ["a", "b"], seed: 9, network: { faults: [{ slice: 3 }] } }, (sim) =>
        Effect.gen(function*() {
          yield* sim.start("b", EchoServer)
          yield* sim.link("a", "b", { latency: 15 })
          yield* sim.drive(roundTrip(sim.host("a").network, "b", "hello, world"), "1 second")
          yield* sim.partition("a", "b")
          yield* sim.heal()
          return sim.formatTrace()
        }))
      const first = yield* once
      assert.strictEqual(yield* once, first)
      assert.match(first, /link a b latency 15/)
      assert.match(first, /partition a b/)
      assert.match(first, /heal all/)
    }))

  it.effect("link latency applies to that link only, to connections opened after it", () =>
    Simulation.run({ hosts: ["a", "b", "c"] }, (sim) =>
      Effect.gen(function*() {
        yield* sim.start("b", EchoServer)
        yield* sim.link("a", "b", { latency: 100 })
        const timed = (host: string) =>
          Effect.gen(function*() {
            const start = yield* Clock.currentTimeMillis
            yield* sim.drive(roundTrip(sim.host(host).network, "b", "x"), "10 seconds")
            return (yield* Clock.currentTimeMillis) - start
          })
        // handshake, request and reply each cross the 100 ms link
        assert.isAtLeast(yield* timed("a"), 300)
        assert.isBelow(yield* timed("c"), 100)
      })))

  it.effect("the leak check names what a host left open", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Simulation.run({ hosts: ["a", "b"] }, (sim) =>
        Effect.gen(function*() {
          yield* sim.start("b", EchoServer)
          // opened outside any scope the simulation closes
          yield* Effect.forkDetach(
            Effect.scoped(Effect.andThen(sim.host("a").network.connect({ host: "b", port: 7000 }), Effect.never))
          )
          yield* sim.advance("10 millis")
        })))
      assert.strictEqual(error._tag, "LeakError")
      assert.match(error.message, /a: 127\.1\.0\.1:\d+ -> 127\.1\.0\.2:7000/)
    }))
})
