/**
 * Virtual time on the memory network means what it says, under `TestClock`:
 * one `TestClock.adjust` delivers everything due in the time it covers, in
 * order, exactly as many small steps would; what waits for the clock and is
 * never given it (a connect across a latency, a close whose peer does not
 * read) fails fast, naming the cause, instead of hanging the test.
 */
import { assert, describe, it } from "@effect/vitest"
import * as MemoryNetwork from "@sluice/core/MemoryNetwork"
import type * as Socket from "@sluice/core/Socket"
import * as Testing from "@sluice/core/Testing"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Logger from "effect/Logger"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/testing/TestClock"

/**
 * A server that writes at 20, 40 and 60 s and a client with a 30 s idle
 * timeout that records when each read came (virtual milliseconds); time is
 * moved by `advance`.
 */
const ticker = (advance: Effect.Effect<void>, options?: MemoryNetwork.Options) =>
  Testing.run(
    Testing.layerMemory(options),
    Effect.gen(function*() {
      const server = yield* Testing.serve((socket) =>
        Effect.gen(function*() {
          for (const word of ["twenty", "forty", "sixty"]) {
            yield* Effect.sleep("20 seconds")
            yield* socket.write(word)
          }
          yield* Effect.never
        })
      )
      const start = yield* Clock.currentTimeMillis
      const events: Array<string> = []
      const stamp = (what: string) =>
        Effect.map(Clock.currentTimeMillis, (now) => {
          events.push(`${now - start} ${what}`)
        })
      const read = (client: Socket.Socket) =>
        Stream.runForEach(client.reads, (chunk) => stamp(new TextDecoder().decode(chunk))).pipe(
          Effect.catch((error) => stamp(error.reason))
        )
      const connect = server.connect({ idleTimeout: "30 seconds" })
      // with latency the connect itself waits for the clock: forked, the clock completes it
      const reader = yield* Effect.forkChild(
        options === undefined ? read(yield* connect) : Effect.flatMap(connect, read)
      )
      yield* advance
      const atEnd = [...events]
      // two more seconds: the idle timeout is due 30 s after the last read
      yield* TestClock.adjust("2 seconds")
      const done = reader.pollUnsafe() !== undefined
      yield* Fiber.interrupt(reader)
      return { atEnd, after: events, done }
    })
  )

describe("virtual time on the memory network", () => {
  it.effect("one adjust of 89 s delivers what 89 steps of 1 s deliver, in order, at the same times", () =>
    Effect.gen(function*() {
      const stepped = yield* ticker(Effect.gen(function*() {
        for (let i = 0; i < 89; i++) yield* TestClock.adjust("1 second")
      }))
      const once = yield* ticker(TestClock.adjust("89 seconds"))
      assert.deepStrictEqual(stepped.atEnd, ["20000 twenty", "40000 forty", "60000 sixty"])
      assert.deepStrictEqual(once.atEnd, stepped.atEnd)
      assert.deepStrictEqual(stepped.after, [...stepped.atEnd, "90000 TimedOut"])
      assert.deepStrictEqual(once.after, stepped.after)
      assert.isTrue(stepped.done && once.done)
    }))

  it.effect("the same with 10 ms of latency each way", () =>
    Effect.gen(function*() {
      const options = { faults: [{ latency: 10 }] }
      const stepped = yield* ticker(
        Effect.gen(function*() {
          for (let i = 0; i < 89; i++) yield* TestClock.adjust("1 second")
        }),
        options
      )
      const once = yield* ticker(TestClock.adjust("89 seconds"), options)
      // the handshake takes 10 ms each way, each word 10 ms
      assert.deepStrictEqual(stepped.atEnd, ["20020 twenty", "40020 forty", "60020 sixty"])
      assert.deepStrictEqual(once.atEnd, stepped.atEnd)
      assert.deepStrictEqual(stepped.after, [...stepped.atEnd, "90020 TimedOut"])
      assert.deepStrictEqual(once.after, stepped.after)
    }))

  it.effect("one adjust runs a whole exchange paced by latency: every reply due in it arrives", () =>
    Testing.run(
      Testing.layerMemory({ faults: [{ latency: 100 }] }),
      Effect.gen(function*() {
        const server = yield* Testing.serve((socket) => Stream.run(socket.reads, socket.writes))
        const fiber = yield* Effect.forkChild(Effect.scoped(Effect.gen(function*() {
          const client = yield* server.connect()
          const replies: Array<string> = []
          for (const word of ["a", "b", "c", "d", "e"]) {
            yield* client.write(word)
            replies.push(new TextDecoder().decode((yield* client.pull)[0]))
          }
          return replies
        })))
        // handshake 200 ms, then five round trips of 200 ms: 1.2 s in one step
        yield* TestClock.adjust("1200 millis")
        const done = fiber.pollUnsafe()
        assert.isDefined(done, "one adjust of the whole time did not finish the exchange")
        assert.deepStrictEqual(yield* Fiber.join(fiber), ["a", "b", "c", "d", "e"])
      })
    ))

  it.effect("a connect across a latency, the clock never moved: fails fast with TimedOut naming the latency", () =>
    Testing.run(
      Testing.layerMemory({ faults: [{ latency: 250 }] }),
      Effect.gen(function*() {
        const server = yield* Testing.serve(() => Effect.never)
        const wallStart = Date.now()
        // not forked: nothing will move the clock while the test waits here
        const error = yield* Effect.flip(Effect.scoped(server.connect()))
        const wall = Date.now() - wallStart
        assert.strictEqual(error.reason, "TimedOut")
        assert.include(error.message, "250 ms of latency to the listener (a latency fault)")
        assert.include(error.message, "TestClock.adjust")
        assert.isAtLeast(wall, 1900, "ended before the stall timeout")
        assert.isBelow(wall, 10_000)
      })
    ))

  it.effect("a SYN retried across a partition, the clock never moved: fails fast naming the partition", () =>
    Testing.run(
      Testing.layerMemory({ stallTimeout: 300 }),
      Effect.gen(function*() {
        const memory = yield* MemoryNetwork.MemoryNetwork
        const server = yield* Testing.serve(() => Effect.never)
        memory.partition("127.0.0.1", "127.0.0.1")
        const error = yield* Effect.flip(Effect.scoped(server.connect()))
        memory.heal()
        assert.strictEqual(error.reason, "TimedOut")
        assert.include(error.message, "the SYN's retransmission in 1000 ms (a partition cuts the link)")
      })
    ))

  it.effect("a close whose peer does not read, the clock never moved: aborted with RST, a warning names why", () =>
    Effect.gen(function*() {
      const warnings: Array<string> = []
      const collect = Logger.make<unknown, void>(({ logLevel, message }) => {
        if (logLevel === "Warn") warnings.push(String(Array.isArray(message) ? message.join(" ") : message))
      })
      const peerError = yield* Testing.run(
        Testing.layerMemory({ stallTimeout: 300 }),
        Effect.gen(function*() {
          const peerReason = yield* Deferred.make<string>()
          // a server that reads nothing until the client is gone, then learns how it ended
          const server = yield* Testing.serve(
            (socket) =>
              Effect.gen(function*() {
                yield* Deferred.await(closed)
                const error = yield* Effect.flip(Stream.runDrain(socket.reads))
                yield* Deferred.succeed(peerReason, error.reason)
              }),
            { readHighWaterMark: 1024 }
          )
          const closed = yield* Deferred.make<void>()
          yield* Effect.scoped(Effect.gen(function*() {
            const client = yield* server.connect({ writeHighWaterMark: 1 << 20 })
            // more than the network holds: the FIN waits behind bytes the peer has no room for
            yield* client.write(new Uint8Array(512 * 1024))
          }))
          yield* Deferred.succeed(closed, undefined)
          return yield* Deferred.await(peerReason)
        })
      ).pipe(Effect.provideService(Logger.CurrentLoggers, new Set([collect])))
      assert.strictEqual(peerError, "ConnectionReset")
      assert.strictEqual(warnings.length, 1)
      assert.include(warnings[0]!, "waits for its peer to read")
      assert.include(warnings[0]!, "10000 ms of virtual time (its close timeout)")
      assert.include(warnings[0]!, "aborted with RST")
    }))

  it.effect("a test that moves the clock is never cut short: a close within its timeout ends gracefully", () =>
    Testing.run(
      Testing.layerMemory({ stallTimeout: 300, faults: [{ latency: 50 }] }),
      Effect.gen(function*() {
        const peer = { received: 0 }
        const server = yield* Testing.serve((socket) =>
          Stream.runForEach(socket.reads, (chunk) => Effect.sync(() => (peer.received += chunk.length)))
        )
        const fiber = yield* Effect.forkChild(Effect.scoped(Effect.gen(function*() {
          const client = yield* server.connect({ writeHighWaterMark: 1 << 20 })
          yield* client.write(new Uint8Array(512 * 1024))
        })))
        while (fiber.pollUnsafe() === undefined) yield* TestClock.adjust("10 millis")
        yield* Fiber.join(fiber)
        while (peer.received < 512 * 1024) yield* TestClock.adjust("10 millis")
        assert.strictEqual(peer.received, 512 * 1024)
      })
    ))
})
