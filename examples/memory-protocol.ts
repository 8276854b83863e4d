/**
 * `node examples/memory-protocol.ts`: testing a length-prefixed protocol on
 * the memory network, without a test runner.
 *
 * A server answers every frame with its bytes reversed. The client sends 200
 * frames over a network that cuts every write into random 1–5 byte pieces
 * (seeded: the same seed gives the same cuts) and adds 40 ms of latency each
 * way, under a 30 s deadline. Time is `TestClock`'s: the run takes a few
 * seconds of virtual time and a fraction of a second of wall time. Then a
 * server that never answers shows the deadline failing with a typed
 * `TimedOut`, and the snapshot shows nothing leaked. Exits 0 when every check
 * holds.
 */
import { Framing, MemoryNetwork, Network, Socket, Testing } from "@sluice/core"
import * as Clock from "effect/Clock"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/testing/TestClock"

// --- the protocol: a 4-byte big-endian length, then the payload -------------
// (Framing's length-prefixed decoder copes with frames cut anywhere, and fails
// with a typed FramingError on a frame over maxFrameSize or cut off at the end)

/** The server: answer each frame with its bytes reversed, until the client ends. */
const reverser = (socket: Socket.Socket) =>
  socket.reads.pipe(
    Framing.decodeLengthPrefixed(),
    Stream.map((frame) => frame.toReversed()),
    Framing.encodeLengthPrefixed(),
    Stream.run(socket.writes)
  )

/** The client: send every frame, half-close, collect the answers. */
const exchange = (socket: Socket.Socket, frames: ReadonlyArray<Uint8Array>) =>
  Effect.gen(function*() {
    const reader = yield* Effect.forkChild(socket.reads.pipe(Framing.decodeLengthPrefixed(), Stream.runCollect))
    yield* Stream.fromIterable(frames).pipe(Framing.encodeLengthPrefixed(), Stream.run(socket.writes))
    yield* socket.endOfOutput
    return yield* Fiber.join(reader)
  })

const check = (ok: boolean, what: string) => (ok ? Console.log(`  ok  ${what}`) : Effect.die(`FAILED: ${what}`))

/** Advances virtual time until `fiber` is done. */
const runVirtually = <A, E>(fiber: Fiber.Fiber<A, E>) =>
  Effect.gen(function*() {
    while (fiber.pollUnsafe() === undefined) yield* TestClock.adjust("10 millis")
    return yield* Fiber.join(fiber)
  })

// --- the test ----------------------------------------------------------------

const frames = Array.from({ length: 200 }, (_, i) => new Uint8Array(i * 7 % 300).map((_, j) => (i + j) & 0xff))

const test = Effect.gen(function*() {
  const wallStart = Date.now()
  const start = yield* Clock.currentTimeMillis

  yield* Console.log("a length-prefixed protocol over sliced writes and 40 ms latency:")
  const server = yield* Testing.serve(reverser)
  const client = yield* Effect.forkChild(Effect.scoped(
    Effect.flatMap(server.connect({ timeout: "30 seconds" }), (socket) => exchange(socket, frames))
  ))
  const answers = yield* runVirtually(client)
  yield* check(answers.length === frames.length, `${frames.length} frames answered, none lost or duplicated`)
  yield* check(
    answers.every((a, i) => a.join() === frames[i]!.toReversed().join()),
    "every answer is its frame reversed, byte for byte"
  )
  const virtual = (yield* Clock.currentTimeMillis) - start
  yield* check(virtual >= 80, `took ${virtual} ms of virtual time (at least one 80 ms round trip)`)

  yield* Console.log("a connect deadline against a host that never answers:")
  const memory = yield* MemoryNetwork.MemoryNetwork
  memory.partition("127.0.0.1", "127.0.0.1")
  const stuck = yield* Effect.forkChild(
    Effect.scoped(Network.connect({ host: "127.0.0.1", port: server.port, timeout: "30 seconds" }))
  )
  yield* TestClock.adjust("30 seconds")
  const failed = yield* Effect.flip(Fiber.join(stuck))
  memory.heal()
  yield* check(failed.reason === "TimedOut", `the connect failed with ${failed.reason} (${failed.message})`)

  const wall = Date.now() - wallStart
  yield* check(wall < 5000, `all of it in ${wall} ms of wall time`)
})

const program = Effect.gen(function*() {
  // `checked` runs the test in its own scope and fails with LeakError if a socket stayed open
  yield* Testing.checked(test)
  const open = (yield* MemoryNetwork.snapshot).open
  yield* check(open === 0, "the memory network's snapshot shows nothing open")
})

const network = Testing.layerMemory({ seed: 2024, faults: [{ slice: 5, latency: 40 }] })

Effect.runPromise(program.pipe(Effect.provide(Layer.provideMerge(network, TestClock.layer())))).catch(
  (error: unknown) => {
    console.error(error)
    process.exitCode = 1
  }
)
