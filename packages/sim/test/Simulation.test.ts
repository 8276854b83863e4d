import { assert, describe, it } from "@effect/vitest"
import { Network, Server, Socket } from "@sluice/core"
import { Simulation } from "@sluice/sim"
import { Effect, Layer, Stream } from "effect"

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
        console.log(sim.formatTrace())
      })))
})
