/**
 * Concurrent reads of one socket take turns, on every driver: a read that
 * starts while another waits (`pull`, `readInto` or `reads`, in any mix)
 * waits for its turn and then gets the next bytes. No byte is delivered twice
 * or lost, every reader is answered at the end of input or on a failure, and
 * an interrupted reader leaves the others waiting as they were.
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

/** One read of the socket, as text: `"<end>"` at the clean end of input. */
type Read = (socket: Socket.Socket) => Effect.Effect<string, unknown>

const endAsText = <E>(effect: Effect.Effect<string, E | Cause.Done>): Effect.Effect<string, E> =>
  Effect.catchIf(effect, Cause.isDone, () => Effect.succeed("<end>")) as Effect.Effect<string, E>

const pull: Read = (socket) => endAsText(Effect.map(socket.pull, text))
const readInto: Read = (socket) =>
  endAsText(Effect.suspend(() => {
    const buffer = new Uint8Array(1024)
    return Effect.map(socket.readInto(buffer), (n) => text([buffer.subarray(0, n)]))
  }))

const reads: ReadonlyArray<readonly [string, Read, Read]> = [
  ["pull and pull", pull, pull],
  ["readInto and readInto", readInto, readInto],
  ["pull and readInto", pull, readInto],
  ["readInto and pull", readInto, pull]
]

const start = <A, E>(effect: Effect.Effect<A, E>) => Effect.forkChild(effect, { startImmediately: true })

const settled = (fiber: Fiber.Fiber<unknown, unknown>) => fiber.pollUnsafe() !== undefined

const bounded = <A, E>(fiber: Fiber.Fiber<A, E>) =>
  Effect.timeoutOrElse(Fiber.join(fiber), {
    duration: "5 seconds",
    orElse: () => Effect.die(new Error("a concurrent reader hangs"))
  })

for (const d of drivers) {
  describe(`concurrent reads on the ${d.name} driver`, () => {
    for (const [name, first, second] of reads) {
      it.live(`${name}: the second waits its turn and gets the next bytes; both see the end`, () =>
        run(
          d.make(),
          Effect.gen(function*() {
            const { client, peer } = yield* connectedPair(d.host)
            const a = yield* start(first(client))
            const b = yield* start(second(client))
            yield* peer.write("one")
            yield* eventually(() => settled(a) || settled(b), "one reader answered")
            assert.isFalse(settled(a) && settled(b), "one write answered both readers")
            yield* peer.write("two")
            const got = [yield* bounded(a), yield* bounded(b)]
            assert.sameMembers(got, ["one", "two"])
            // and at the end of input, every waiting reader is answered
            const c = yield* start(first(client))
            const e = yield* start(second(client))
            yield* peer.endOfOutput
            assert.deepStrictEqual([yield* bounded(c), yield* bounded(e)], ["<end>", "<end>"])
          })
        ))
    }

    it.live("two streams of reads at once: every byte once, in order within each, both end cleanly", () =>
      run(
        d.make(),
        Effect.gen(function*() {
          const { client, peer } = yield* connectedPair(d.host)
          const collect = Effect.map(Stream.runCollect(client.reads), text)
          const a = yield* start(collect)
          const b = yield* start(collect)
          const words = Array.from({ length: 20 }, (_, i) => `w${i};`)
          for (const word of words) {
            yield* peer.write(word)
            // one word per read: wait until it was taken before writing the next
            yield* eventually(() => peer.connection.queuedBytes === 0, "the word left")
          }
          yield* peer.endOfOutput
          const both = [yield* bounded(a), yield* bounded(b)]
          const all = both.join("").split(";").filter((w) => w !== "").map((w) => `${w};`)
          assert.sameMembers(all, words, "every word exactly once")
          for (const one of both) {
            const order = one.split(";").filter((w) => w !== "").map((w) => Number(w.slice(1)))
            assert.deepStrictEqual(order, order.toSorted((x, y) => x - y), "each reader's words in order")
          }
        })
      ))

    it.live("an interrupted waiting reader leaves the others waiting; a failure answers every reader", () =>
      run(
        d.make(),
        Effect.gen(function*() {
          const { client, peer } = yield* connectedPair(d.host)
          const a = yield* start(pull(client))
          const b = yield* start(pull(client))
          const c = yield* start(pull(client))
          // a holds the read, b and c wait for their turn: interrupt the holder and the last in line
          yield* Fiber.interrupt(a)
          yield* Fiber.interrupt(c)
          yield* peer.write("for b")
          assert.strictEqual(yield* bounded(b), "for b")
          const d1 = yield* start(readInto(client))
          const d2 = yield* start(readInto(client))
          // the peer aborts: both waiting readers fail with the reset
          yield* Scope.close(peer.scope, Exit.fail("abort"))
          for (const fiber of [d1, d2]) {
            const exit = yield* Effect.exit(bounded(fiber))
            assert.isTrue(Exit.isFailure(exit))
            const error = Exit.isFailure(exit) ? Cause.squash(exit.cause) : undefined
            assert.strictEqual((error as { reason?: string }).reason, "ConnectionReset")
          }
        })
      ))
  })
}
