/**
 * TLS on the memory network: what only a simulated network can show. The
 * handshake deadlines and the idle timeout run on virtual time (`TestClock`),
 * seeded slicing cuts every TLS record into tiny reads, and a reset at byte N
 * lands during the handshake or after it. Every test runs under
 * `Testing.run`, so a connection left open fails it.
 */
import { assert, describe, it } from "@effect/vitest"
import * as MemoryNetwork from "@sluice/core/MemoryNetwork"
import * as Network from "@sluice/core/Network"
import * as Testing from "@sluice/core/Testing"
import * as Tls from "@sluice/core/Tls"
import * as NodeTls from "@sluice/node-adapter/NodeTls"
import * as Clock from "effect/Clock"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/testing/TestClock"
import { pattern } from "./helpers.ts"
import { clientTls, echo, readText, serverTls } from "./TlsFixtures.ts"

/** Advances virtual time in `step`s until `done()` holds (at most `max` steps). */
const advanceUntil = (done: () => boolean, step: Duration.Input = "100 millis", max = 10_000) =>
  Effect.gen(function*() {
    for (let i = 0; i < max && !done(); i++) yield* TestClock.adjust(step)
    assert.isTrue(done(), "the condition never held")
  })

/** A test body on a fresh memory network with TLS, checked for leaks. */
const onMemory = <A, E>(
  options: MemoryNetwork.Options,
  body: Effect.Effect<A, E, Network.Network | MemoryNetwork.MemoryNetwork | Testing.Sockets | Scope.Scope>
) => Testing.run(Testing.layerMemory(options), Effect.provide(body, NodeTls.layer))

describe("TLS on the memory network", () => {
  it.effect("a handshake runs under TestClock without moving the clock", () =>
    onMemory(
      {},
      Effect.gen(function*() {
        const server = yield* Testing.serve(echo, { tls: serverTls })
        const socket = yield* server.connect({ tls: clientTls })
        yield* socket.write("virtual")
        yield* socket.endOfOutput
        assert.strictEqual(yield* readText(socket), "virtual")
        assert.strictEqual(yield* Clock.currentTimeMillis, 0)
      })
    ))

  it.effect("the client's handshake deadline is virtual time: 30 seconds in no time", () =>
    onMemory(
      {},
      Effect.gen(function*() {
        // accepts, never answers
        const server = yield* Testing.serve(() => Effect.never)
        const start = Date.now()
        const fiber = yield* Effect.forkChild(Effect.flip(Effect.scoped(server.connect({
          tls: { ...clientTls, handshakeTimeout: "30 seconds" }
        }))))
        yield* advanceUntil(() => fiber.pollUnsafe() !== undefined, "100 millis", 1_000)
        const error = yield* Fiber.join(fiber)
        assert.strictEqual(error.reason, "TimedOut")
        assert.strictEqual(error.code, "ERR_TLS_HANDSHAKE_TIMEOUT")
        assert.strictEqual(error.syscall, "handshake")
        const elapsed = yield* Clock.currentTimeMillis
        assert.isAtLeast(elapsed, 30_000)
        assert.isBelow(elapsed, 30_500)
        assert.isBelow(Date.now() - start, 10_000)
      })
    ))

  it.effect("the server's handshake deadline drops a client that never speaks, and counts it", () =>
    onMemory(
      {},
      Effect.gen(function*() {
        const server = yield* Testing.serve(echo, { tls: { ...serverTls, handshakeTimeout: "10 seconds" } })
        const mute = yield* server.connect()
        const reading = yield* Effect.forkChild(Effect.exit(Stream.runCollect(mute.reads)))
        yield* advanceUntil(() => reading.pollUnsafe() !== undefined)
        const elapsed = yield* Clock.currentTimeMillis
        assert.isAtLeast(elapsed, 10_000)
        assert.isBelow(elapsed, 10_500)
        const reads = yield* Fiber.join(reading)
        // the server closed it: a clean end, nothing sent
        assert.isTrue(Exit.isSuccess(reads) && reads.value.length === 0)
        const failures = yield* server.server.handshakeFailures
        assert.strictEqual(failures.count, 1)
        assert.strictEqual(failures.latest?.code, "ERR_TLS_HANDSHAKE_TIMEOUT")
        assert.strictEqual(failures.latest?.address, "127.0.0.1")
      })
    ))

  it.effect("the idle timeout of an encrypted socket runs on virtual time", () =>
    onMemory(
      {},
      Effect.gen(function*() {
        const server = yield* Testing.serve(() => Effect.never, { tls: serverTls })
        const socket = yield* server.connect({ tls: clientTls, idleTimeout: "1 minute" })
        const reading = yield* Effect.forkChild(Effect.flip(Stream.runDrain(socket.reads)))
        yield* advanceUntil(() => reading.pollUnsafe() !== undefined, "1 second")
        const error = yield* Fiber.join(reading)
        assert.strictEqual(error.reason, "TimedOut")
        assert.isAtLeast(yield* Clock.currentTimeMillis, 60_000)
      })
    ))

  for (const seed of [1, 2, 3]) {
    it.effect(`seeded slicing (seed ${seed}): TLS records cut into 1..3-byte reads still carry every byte`, () =>
      onMemory(
        { seed, faults: [{ slice: 3 }] },
        Effect.gen(function*() {
          const server = yield* Testing.serve(echo, { tls: serverTls })
          const socket = yield* server.connect({ tls: { ...clientTls, alpnProtocols: ["x"] } })
          const payload = pattern(20_000, seed)
          const [, back] = yield* Effect.all([
            Effect.andThen(socket.write(payload), socket.endOfOutput),
            Stream.runCollect(socket.reads)
          ], { concurrency: 2 })
          assert.deepStrictEqual(Buffer.concat(back), Buffer.from(payload))
          assert.strictEqual(socket.tls?.protocol, "TLSv1.3")
        })
      ))
  }

  it.effect("a reset at byte 100 toward the server: the handshake fails on both ends, typed", () =>
    onMemory(
      { faults: [{ resetAfter: { toServer: 100 } }] },
      Effect.gen(function*() {
        const server = yield* Testing.serve(echo, { tls: serverTls })
        const error = yield* Effect.flip(Effect.scoped(server.connect({ tls: clientTls })))
        assert.strictEqual(error._tag, "ConnectError")
        assert.strictEqual(error.reason, "ConnectionReset")
        assert.strictEqual(error.code, "ECONNRESET")
        yield* advanceUntil(() => server.server.listener.connections === 0, "1 millis")
        const failures = yield* server.server.handshakeFailures
        assert.strictEqual(failures.count, 1)
        assert.strictEqual(failures.latest?.reason, "ConnectionReset")
        assert.strictEqual((yield* server.serving.stats).accepted, 0)
      })
    ))

  it.effect("a reset at byte 200 toward the client lands in the server's flight: the client's handshake fails", () =>
    onMemory(
      { faults: [{ resetAfter: { toClient: 200 } }] },
      Effect.gen(function*() {
        const server = yield* Testing.serve(echo, { tls: serverTls })
        const error = yield* Effect.flip(Effect.scoped(server.connect({ tls: clientTls })))
        assert.strictEqual(error.reason, "ConnectionReset")
        yield* advanceUntil(() => server.server.listener.connections === 0, "1 millis")
        assert.strictEqual((yield* server.server.handshakeFailures).count, 1)
      })
    ))

  it.effect("a reset after the handshake fails the encrypted socket's reads on both ends", () =>
    onMemory(
      { faults: [{ resetAfter: { toServer: 8_000 } }] },
      Effect.gen(function*() {
        let serverSide: Exit.Exit<void, unknown> | undefined
        const server = yield* Testing.serve(
          (s) => Effect.tap(Effect.exit(echo(s)), (exit) => Effect.sync(() => (serverSide = exit))),
          { tls: serverTls }
        )
        const socket = yield* server.connect({ tls: clientTls })
        assert.strictEqual(socket.tls?.protocol, "TLSv1.3")
        const reading = yield* Effect.forkChild(Effect.flip(Stream.runDrain(socket.reads)))
        yield* Effect.ignore(socket.write(pattern(20_000)))
        const error = yield* Fiber.join(reading)
        assert.strictEqual(error._tag, "SocketError")
        assert.strictEqual(error.reason, "ConnectionReset")
        yield* advanceUntil(() => serverSide !== undefined, "1 millis")
        assert.isTrue(serverSide !== undefined && Exit.isFailure(serverSide))
        assert.strictEqual((yield* server.server.handshakeFailures).count, 0)
      })
    ))

  it.effect("nothing stays open after TLS connections, failed handshakes and STARTTLS", () =>
    onMemory(
      {},
      Effect.gen(function*() {
        const server = yield* Testing.serve(echo, { tls: serverTls })
        for (let i = 0; i < 5; i++) {
          yield* Effect.scoped(Effect.flatMap(server.connect({ tls: clientTls }), (s) => s.write("x")))
        }
        yield* Effect.exit(Effect.scoped(server.connect({ tls: { ...clientTls, servername: "wrong.test" } })))
        const plain = yield* Effect.scoped(Effect.flatMap(server.connect(), (s) =>
          Effect.andThen(s.write("hello\r\n"), Effect.exit(Stream.runDrain(s.reads)))))
        assert.isTrue(Exit.isSuccess(plain) || Exit.isFailure(plain))
        // STARTTLS both ways
        const starttls = yield* Testing.serve((s) =>
          Effect.gen(function*() {
            const [first] = yield* s.pull
            const secure = yield* Tls.upgradeServer(s, { ...serverTls, unread: first!.subarray(9) })
            yield* echo(secure)
          })
        )
        const upgraded = yield* Effect.scoped(Effect.gen(function*() {
          const s = yield* starttls.connect()
          yield* s.write("STARTTLS\n")
          const secure = yield* Tls.upgrade(s, clientTls)
          yield* secure.write("after")
          yield* secure.endOfOutput
          return yield* readText(secure)
        }))
        assert.strictEqual(upgraded, "after")
        const network = yield* MemoryNetwork.MemoryNetwork
        // well before the server's 120 s handshake deadline
        yield* advanceUntil(
          () =>
            network.snapshot().connections.length === 0,
          "1 millis",
          1_000
        )
        assert.strictEqual((yield* server.server.handshakeFailures).count, 2)
      })
    ))
})
