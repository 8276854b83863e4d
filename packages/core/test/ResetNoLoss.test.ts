/**
 * A reset is never read as a clean end, on every driver. When the peer
 * aborts while this side is not reading, the platform may report the reset
 * to a pending write only (a kernel reports a socket's error once, and a
 * read after it sees end of file); the socket still fails every later read
 * with that error, after the bytes that arrived before it, as node:net does
 * (it destroys a socket whose write failed).
 */
import { assert, describe, it } from "@effect/vitest"
import type * as Socket from "@sluice/core/Socket"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { drivers } from "./drivers.ts"
import { connectedPair, eventually, run, text } from "./helpers.ts"

/** The reason every later read of `socket` fails with (`"clean end"` when one ends cleanly instead). */
const laterReads = (socket: Socket.Socket) =>
  Effect.gen(function*() {
    const reasons: Array<string> = []
    const reads: ReadonlyArray<Effect.Effect<unknown, unknown>> = [
      // a stream of reads succeeds at the clean end
      Effect.andThen(Stream.runDrain(socket.reads), Cause.done()),
      socket.pull,
      socket.readInto(new Uint8Array(16))
    ]
    for (const read of reads) {
      const exit = yield* Effect.exit(read)
      if (Exit.isSuccess(exit)) reasons.push("data")
      else {
        const error = Cause.squash(exit.cause)
        reasons.push(Cause.isDone(error) ? "clean end" : (error as { reason: string }).reason)
      }
    }
    return reasons
  })

for (const d of drivers) {
  describe(`a reset on the ${d.name} driver`, () => {
    it.live("reported to a pending write while nobody reads: every later read fails with ConnectionReset", () =>
      run(
        d.make(),
        Effect.gen(function*() {
          const { client, peer } = yield* connectedPair(d.host, { writeHighWaterMark: 1 << 30 })
          // far more than the kernels' buffers: most of it stays queued, the peer reads nothing
          yield* client.write(new Uint8Array(32 << 20))
          const ending = yield* Effect.forkChild(client.endOfOutput)
          yield* Scope.close(peer.scope, Exit.fail("abort"))
          // the client's platform reports the reset to the queued write
          yield* eventually(() => client.connection.queuedBytes === 0, "the queued write failed")
          yield* Fiber.await(ending)
          // Deno's node:net reports the peer's reset to a pending write as EPIPE: the reads fail with that
          const reset = "deno" in process.versions ? "BrokenPipe" : "ConnectionReset"
          assert.deepStrictEqual(yield* laterReads(client), [reset, reset, reset])
          assert.strictEqual((yield* Effect.flip(client.write("x"))).reason, reset)
        })
      ))

    it.live("after a half-close, with nothing pending: the reset reaches the reads, after the bytes before it", () =>
      run(
        d.make(),
        Effect.gen(function*() {
          const { client, peer } = yield* connectedPair(d.host)
          yield* client.write("request")
          yield* client.endOfOutput
          assert.strictEqual(text(yield* peer.pull), "request")
          yield* peer.write("partial answer")
          yield* eventually(() => peer.connection.queuedBytes === 0, "the answer left")
          const closed = yield* Effect.exit(Scope.close(peer.scope, Exit.fail("abort")))
          assert.isTrue(Exit.isSuccess(closed))
          // the bytes sent before the reset come first
          assert.strictEqual(text(yield* client.pull), "partial answer")
          assert.deepStrictEqual(yield* laterReads(client), ["ConnectionReset", "ConnectionReset", "ConnectionReset"])
        })
      ))
  })
}
