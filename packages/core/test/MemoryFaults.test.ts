/**
 * One test per fault kind: a realistic client and server (length-prefixed
 * frames, an HTTP/1.1-like exchange) either survive the fault without losing
 * or duplicating a byte, or fail with the typed error the fault implies.
 * Everything runs under `TestClock`: latency and timeouts take no real time.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Framing from "@sluice/core/Framing"
import * as MemoryNetwork from "@sluice/core/MemoryNetwork"
import * as Network from "@sluice/core/Network"
import * as Testing from "@sluice/core/Testing"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/testing/TestClock"
import {
  driveClock,
  equalBytes,
  exchangeFrames,
  httpGet,
  httpHandler,
  makeFrames,
  reversed,
  reverseFrames,
  type Socket
} from "./MemoryProtocols.ts"

const frames = makeFrames(40, 3000, 11)
const totalBytes = frames.reduce((n, f) => n + 4 + f.length, 0)

const assertAllAnswered = (answers: ReadonlyArray<Uint8Array>) => {
  assert.strictEqual(answers.length, frames.length, "frames lost or duplicated")
  for (let i = 0; i < frames.length; i++) {
    assert.isTrue(equalBytes(answers[i]!, reversed(frames[i]!)), `frame ${i} corrupted`)
  }
}

describe("MemoryNetwork faults", () => {
  it.effect("slicing: every write cut into 1..3-byte pieces; frames and HTTP survive intact", () =>
    Testing.run(
      Testing.layerMemory({ seed: 5, faults: [{ slice: 3 }] }),
      Effect.gen(function*() {
        const seen: Array<number> = []
        const server = yield* Testing.serve((socket) => reverseFrames(socket, seen))
        const socket = yield* server.connect()
        assertAllAnswered(yield* exchangeFrames(socket, frames))
        // the server really saw tiny reads
        assert.isTrue(Math.max(...seen) <= 3)
        assert.isTrue(seen.length > totalBytes / 3)

        const http = yield* Testing.serve(httpHandler)
        const response = yield* Effect.scoped(Effect.flatMap(http.connect(), (s) => httpGet(s, "/sliced")))
        assert.strictEqual(response.status, "HTTP/1.1 200 OK")
        assert.strictEqual(response.body, "you asked for /sliced")
        assert.strictEqual(Number(response.headers.get("content-length")), response.body.length)
      })
    ))

  it.effect("latency and bandwidth per direction take virtual time, not wall time", () =>
    Testing.run(
      Testing.layerMemory({
        faults: [{ latency: { toServer: 50, toClient: 200 }, bandwidth: { toServer: 100_000, toClient: 1_000_000 } }]
      }),
      Effect.gen(function*() {
        const wallStart = Date.now()
        const server = yield* Testing.serve((socket) => reverseFrames(socket))
        const start = yield* Clock.currentTimeMillis
        const fiber = yield* Effect.forkChild(
          Effect.scoped(Effect.flatMap(server.connect(), (socket) => exchangeFrames(socket, frames)))
        )
        const answers = yield* driveClock(fiber)
        const elapsed = (yield* Clock.currentTimeMillis) - start
        assertAllAnswered(answers)
        // handshake (250 ms) + the request bytes at 100 kB/s + the answer's trip back
        assert.isAtLeast(elapsed, 250 + (totalBytes * 1000) / 100_000 + 200)
        assert.isBelow(Date.now() - wallStart, 5000)
      })
    ))

  it.effect("refuse: connects fail with ConnectionRefused although the server listens", () =>
    Testing.run(
      Testing.layerMemory(),
      Effect.gen(function*() {
        const server = yield* Testing.serve(httpHandler)
        const memory = yield* MemoryNetwork.MemoryNetwork
        const remove = memory.inject({ match: { port: server.port }, refuse: true })
        const error = yield* Effect.flip(Effect.scoped(server.connect()))
        assert.strictEqual(error.reason, "ConnectionRefused")
        assert.strictEqual(error.code, "ECONNREFUSED")
        assert.strictEqual(error.port, server.port)
        remove()
        const response = yield* Effect.scoped(Effect.flatMap(server.connect(), (s) => httpGet(s, "/again")))
        assert.strictEqual(response.body, "you asked for /again")
      })
    ))

  it.effect("reset at byte N: the server gets exactly N bytes, then both sides fail with ConnectionReset", () =>
    Testing.run(
      Testing.layerMemory({ faults: [{ resetAfter: { toServer: 1000 } }] }),
      Effect.gen(function*() {
        let received = 0
        const failed = yield* Deferred.make<string>()
        const server = yield* Testing.serve(
          (socket) =>
            Stream.runForEach(socket.reads, (chunk) => Effect.sync(() => (received += chunk.length))).pipe(
              Effect.tapError((e) => Deferred.succeed(failed, e.reason))
            ),
          { onHandlerError: () => Effect.void }
        )
        const error = yield* Effect.flip(
          Effect.scoped(Effect.flatMap(server.connect(), (socket) => exchangeFrames(socket, frames)))
        )
        assert.strictEqual(error._tag, "SocketError")
        assert.strictEqual(error.reason, "ConnectionReset")
        assert.strictEqual(yield* Deferred.await(failed), "ConnectionReset")
        assert.strictEqual(received, 1000)
      })
    ))

  for (const direction of ["toServer", "toClient"] as const) {
    it.effect(`reset at byte N ${direction}, one burst without latency: the N bytes before the reset arrive`, () =>
      Testing.run(
        Testing.layerMemory({ faults: [{ resetAfter: { [direction]: 1000 } }] }),
        Effect.gen(function*() {
          const outcome = (socket: Socket.Socket) =>
            Effect.gen(function*() {
              let received = 0
              const exit = yield* Effect.exit(
                Stream.runForEach(socket.reads, (chunk) => Effect.sync(() => (received += chunk.length)))
              )
              return { received, reason: Exit.isFailure(exit) ? Cause.squash(exit.cause) : "clean end" }
            })
          const serverSide = yield* Deferred.make<{ received: number; reason: unknown }>()
          const server = yield* Testing.serve(
            (socket) =>
              Effect.gen(function*() {
                if (direction === "toClient") yield* socket.write(new Uint8Array(3000).fill(7))
                yield* Deferred.succeed(serverSide, yield* outcome(socket))
              }),
            { onHandlerError: () => Effect.void }
          )
          const client = yield* server.connect()
          if (direction === "toServer") yield* client.write(new Uint8Array(3000).fill(7))
          const clientSide = yield* outcome(client)
          const [receiver, sender] = direction === "toServer"
            ? [yield* Deferred.await(serverSide), clientSide]
            : [clientSide, yield* Deferred.await(serverSide)]
          assert.strictEqual(receiver.received, 1000, "the bytes before the reset")
          assert.strictEqual(sender.received, 0)
          for (const side of [receiver, sender]) {
            assert.strictEqual((side.reason as { reason?: string }).reason, "ConnectionReset")
          }
        })
      ))
  }

  it.effect("reset at byte N while the client wrote, half-closed and reads later: its reads fail", () =>
    Testing.run(
      Testing.layerMemory({ faults: [{ resetAfter: { toServer: 1000 } }] }),
      Effect.gen(function*() {
        const server = yield* Testing.serve((socket) => Stream.runDrain(socket.reads), {
          onHandlerError: () => Effect.void
        })
        const client = yield* server.connect()
        // the write itself may see the reset (it waits once the queue reaches the high-water mark)
        yield* Effect.exit(client.write(new Uint8Array(100_000)))
        yield* Effect.exit(client.endOfOutput)
        // the reset came while nobody read: a later read must not look like a clean end
        const error = yield* Effect.flip(Stream.runDrain(client.reads))
        assert.strictEqual(error.reason, "ConnectionReset")
        assert.strictEqual((yield* Effect.flip(client.pull))._tag, "SocketError")
      })
    ))

  it.effect("drop: a silently dropped connection is noticed by the idle timeout (TimedOut)", () =>
    Testing.run(
      Testing.layerMemory(),
      Effect.gen(function*() {
        const server = yield* Testing.serve((socket) => reverseFrames(socket))
        const memory = yield* MemoryNetwork.MemoryNetwork
        const socket = yield* server.connect({ idleTimeout: "5 seconds" })
        const answers: Array<Uint8Array> = []
        const reader = yield* Effect.forkChild(
          socket.reads.pipe(
            Framing.decodeLengthPrefixed(),
            Stream.runForEach((frame) => Effect.sync(() => answers.push(frame)))
          )
        )
        const send = (frame: ReadonlyArray<number>) =>
          Effect.flatMap(Framing.lengthPrefix(new Uint8Array(frame)), socket.writeAll)
        yield* send([1, 2])
        while (answers.length === 0) yield* TestClock.adjust("1 millis")
        assert.deepStrictEqual([...answers[0]!], [2, 1])
        assert.strictEqual(memory.drop(), 1)
        yield* send([9])
        yield* TestClock.adjust("4 seconds")
        assert.isUndefined(reader.pollUnsafe(), "the reader gave up before the idle timeout")
        const error = yield* Effect.flip(driveClock(reader, "1 second", 10))
        assert.strictEqual(error.reason, "TimedOut")
        assert.strictEqual(answers.length, 1, "a dropped connection delivered bytes")
        const [c] = memory.snapshot().connections
        assert.isTrue(c === undefined || c.dropped)
      })
    ))

  it.effect("drop, no idle timeout: the sender gives up retransmitting after ~15 min with TimedOut", () =>
    Testing.run(
      Testing.layerMemory(),
      Effect.gen(function*() {
        const server = yield* Testing.serve((socket) => reverseFrames(socket))
        const memory = yield* MemoryNetwork.MemoryNetwork
        const socket = yield* server.connect()
        const reader = yield* Effect.forkChild(Stream.runDrain(socket.reads))
        assert.strictEqual(memory.drop(), 1)
        yield* Effect.flatMap(Framing.lengthPrefix(new Uint8Array([7])), socket.writeAll)
        yield* TestClock.adjust("15 minutes")
        assert.isUndefined(reader.pollUnsafe(), "gave up before Linux's ~924 s")
        yield* TestClock.adjust("1 minute")
        const error = yield* Effect.flip(Fiber.join(reader))
        assert.strictEqual(error.reason, "TimedOut")
        assert.strictEqual(error.code, "ETIMEDOUT")
        assert.strictEqual(error.syscall, "read")
      })
    ))

  it.effect("partition and heal: bytes wait during the partition and all arrive after; connects time out", () =>
    Testing.run(
      Testing.layerMemory({ hosts: { app: "10.0.0.1", db: "10.0.0.2" } }),
      Effect.gen(function*() {
        const memory = yield* MemoryNetwork.MemoryNetwork
        const server = yield* Testing.serve((socket) => reverseFrames(socket), { host: "10.0.0.2" })
        const socket = yield* Network.connect({ host: "db", port: server.port, localAddress: "10.0.0.1" })
        memory.partition("app", "db")
        const fiber = yield* Effect.forkChild(exchangeFrames(socket, frames))
        yield* TestClock.adjust("10 seconds")
        assert.isUndefined(fiber.pollUnsafe(), "bytes crossed a partition")
        const [c] = memory.snapshot().connections
        assert.isTrue(c!.partitioned)
        assert.isAbove(c!.toServer.inFlight, 0)
        // a new connection cannot get through either: its deadline fires
        const error = yield* Effect.flip(
          Effect.scoped(
            Network.connect({ host: "db", port: server.port, localAddress: "10.0.0.1", timeout: "3 seconds" })
          )
            .pipe(Effect.forkChild, Effect.tap(() => TestClock.adjust("3 seconds")), Effect.flatMap(Fiber.join))
        )
        assert.strictEqual(error.reason, "TimedOut")
        memory.heal("app", "db")
        assertAllAnswered(yield* driveClock(fiber))
      })
    ))

  it.effect("slow close: the peer sees the end only after the configured delay", () =>
    Testing.run(
      Testing.layerMemory({ faults: [{ slowClose: 5000 }] }),
      Effect.gen(function*() {
        const server = yield* Testing.serve(httpHandler)
        const start = yield* Clock.currentTimeMillis
        const fiber = yield* Effect.forkChild(
          Effect.scoped(Effect.flatMap(server.connect(), (s) => httpGet(s, "/slow")))
        )
        yield* TestClock.adjust("4 seconds")
        assert.isUndefined(fiber.pollUnsafe(), "the end arrived before the slow close delay")
        const response = yield* driveClock(fiber, "100 millis")
        assert.strictEqual(response.body, "you asked for /slow")
        assert.isAtLeast((yield* Clock.currentTimeMillis) - start, 5000)
      })
    ))

  it.effect("a 30 s idle timeout under TestClock takes well under a second of wall time", () =>
    Testing.run(
      Testing.layerMemory(),
      Effect.gen(function*() {
        const wallStart = Date.now()
        // a server that accepts and never answers
        const server = yield* Testing.serve(() => Effect.never)
        const socket = yield* server.connect({ idleTimeout: "30 seconds" })
        const reader = yield* Effect.forkChild(Stream.runDrain(socket.reads))
        yield* TestClock.adjust("29 seconds")
        assert.isUndefined(reader.pollUnsafe(), "timed out early")
        yield* TestClock.adjust("1 second")
        const error = yield* Effect.flip(Fiber.join(reader))
        assert.strictEqual(error.reason, "TimedOut")
        assert.isBelow(Date.now() - wallStart, 1000)
      })
    ))

  it.effect("a connect deadline under TestClock: a partitioned host times out with TimedOut", () =>
    Testing.run(
      Testing.layerMemory(),
      Effect.gen(function*() {
        const memory = yield* MemoryNetwork.MemoryNetwork
        const server = yield* Testing.serve(httpHandler)
        memory.partition("127.0.0.1", "127.0.0.1")
        const fiber = yield* Effect.forkChild(Effect.scoped(server.connect({ timeout: "2 seconds" })))
        yield* TestClock.adjust("2 seconds")
        const error = yield* Effect.flip(Fiber.join(fiber))
        assert.strictEqual(error.reason, "TimedOut")
        assert.strictEqual(error.code, "ETIMEDOUT")
        memory.heal()
      })
    ))
})
