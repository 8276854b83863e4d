/**
 * `Socket.readInto` and borrowed reads, on every driver: bytes read into a
 * small buffer come in order and leftovers wait for the next read (of any
 * style); the clean end is `Cause.Done`; an interrupted read leaves the socket
 * usable; a reset fails a waiting read. Borrowed views (the node driver reads
 * every socket into one shared buffer) must be copied by the face: chunks
 * collected without processing, on either end and on two connections at once,
 * equal what was sent. A memory driver wrapped to lend borrowed views that it
 * scribbles over after each `onData` checks the same copies without node:net.
 */
import { assert, describe, it } from "@effect/vitest"
import type { Driver, Handle, HandleEvents } from "@sluice/core/Driver"
import * as MemoryNetwork from "@sluice/core/MemoryNetwork"
import type * as Socket from "@sluice/core/Socket"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { type DriverCase, drivers } from "./drivers.ts"
import { bytes, connectedPair, eventually, run } from "./helpers.ts"
import { concat } from "./MemoryHelpers.ts"

/** Wraps `inner` so that every read is a borrowed view of one scratch buffer, overwritten once `onData` returns. */
const lending = (inner: Driver): Driver => {
  const scratch = new Uint8Array(65536)
  const lend = (handle: Handle): Handle =>
    new Proxy(handle, {
      get: (target, key) => {
        if (key === "bind") {
          return (events: HandleEvents) =>
            target.bind({
              onEnd: () => events.onEnd(),
              onError: (error) => events.onError(error),
              onData: (chunk) => {
                const view = scratch.subarray(0, chunk.length)
                view.set(chunk)
                events.onData(view, true)
                view.fill(0xee)
              }
            })
        }
        const value: unknown = Reflect.get(target, key, target)
        return typeof value === "function" ? value.bind(target) : value
      }
    })
  return {
    ...inner,
    connect: (target, cb) => inner.connect(target, (e, h) => cb(e, h === undefined ? undefined : lend(h))),
    listen: (target, events, cb) =>
      inner.listen(target, { ...events, onConnection: (h) => events.onConnection(lend(h)) }, cb)
  }
}

const cases: ReadonlyArray<DriverCase> = [
  ...drivers,
  { name: "lending memory", make: () => lending(MemoryNetwork.make().driver), host: "127.0.0.1" }
]

/** Equal length and contents; names the first differing byte (a deep-equal diff of MiBs is unreadable). */
const assertBytes = (actual: Uint8Array, expected: Uint8Array) => {
  assert.strictEqual(actual.length, expected.length, "length")
  assert.strictEqual(actual.findIndex((b, i) => b !== expected[i]), -1, "first differing byte")
}

/** Sizes of 64 KiB and odd writes covering `total`. */
const slices = (payload: Uint8Array): Array<Uint8Array> => {
  const sizes = [65536, 1, 4093, 65537, 100_003, 7]
  const out: Array<Uint8Array> = []
  for (let offset = 0, i = 0; offset < payload.length; i++) {
    const end = Math.min(payload.length, offset + sizes[i % sizes.length]!)
    out.push(payload.subarray(offset, end))
    offset = end
  }
  return out
}

const writeEach = (socket: Socket.Socket, chunks: ReadonlyArray<Uint8Array>) =>
  Effect.andThen(Effect.forEach(chunks, socket.write, { discard: true }), socket.endOfOutput)

/** Reads with `readInto` through a buffer of `size` until the end; the copies of each read. */
const readAllInto = (socket: Socket.Socket, size: number) =>
  Effect.gen(function*() {
    const buffer = new Uint8Array(size)
    const reads: Array<Uint8Array> = []
    while (true) {
      const n = yield* Effect.catchIf(socket.readInto(buffer), Cause.isDone, () => Effect.succeed(-1))
      if (n < 0) return reads
      assert.isTrue(n > 0 && n <= size, `read ${n} bytes into ${size}`)
      reads.push(buffer.slice(0, n))
    }
  })

const pair = connectedPair

/** Writes `payload` from `from` in 64 KiB and odd slices, collecting it whole through `to.reads`. */
const sendThroughReads = (from: Socket.Socket, to: Socket.Socket, payload: Uint8Array) =>
  Effect.map(
    Effect.all([writeEach(from, slices(payload)), Stream.runCollect(to.reads)], { concurrency: 2 }),
    ([, received]) => received
  )

for (const d of cases) {
  describe(`Socket.readInto on the ${d.name} driver`, () => {
    it.live("a small buffer reads the bytes in order; a partial read's leftover goes to the next readInto or pull", () =>
      run(
        d.make(),
        Effect.gen(function*() {
          const { client, peer } = yield* pair(d.host)
          // one readInto takes 100 bytes of a chunk; the rest of it must survive the next
          // read (into the node driver's shared buffer) and come first through pull
          const first = bytes(3000, 17)
          const second = bytes(5000, 42)
          yield* peer.write(first)
          const buffer = new Uint8Array(100)
          assert.strictEqual(yield* client.readInto(buffer), 100)
          yield* peer.write(second)
          yield* eventually(() => client.connection.bytesRead === 8000, "every byte arrived")
          const rest = yield* client.pull
          assertBytes(concat([buffer, ...rest]), concat([first, second]))

          // readInto alone, until the end
          const payload = bytes(10_000)
          yield* writeEach(client, [payload])
          const reads = yield* readAllInto(peer, 1000)
          assert.isAtLeast(reads.length, 10)
          assertBytes(concat(reads), payload)
        })
      ))

    it.live("Done once every byte was read after the peer's endOfOutput; an empty buffer reads 0 at once", () =>
      run(
        d.make(),
        Effect.gen(function*() {
          const { client, peer } = yield* pair(d.host)
          const empty = new Uint8Array(0)
          // nothing was sent: an empty read must not wait for bytes
          assert.deepStrictEqual(yield* Effect.timeoutOption(peer.readInto(empty), "2 seconds"), Option.some(0))
          yield* writeEach(client, [bytes(5)])
          const buffer = new Uint8Array(2)
          assert.strictEqual(yield* peer.readInto(buffer), 2)
          yield* eventually(() => peer.connection.readEnded, "the peer's end arrived")
          // the end waits behind the buffered bytes
          const reads = [buffer.slice(), ...(yield* readAllInto(peer, 2))]
          assertBytes(concat(reads), bytes(5))
          assert.isTrue(Cause.isDone(yield* Effect.flip(peer.readInto(buffer))), "still Done")
          assert.strictEqual(yield* peer.readInto(empty), 0)
        })
      ))

    it.live("4 MiB in 64 KiB and odd writes, collected whole by reads, equal what was sent", () =>
      run(
        d.make(),
        Effect.gen(function*() {
          const { client, peer } = yield* pair(d.host)
          const payload = bytes(4 * 1024 * 1024, 3)
          const received = yield* sendThroughReads(peer, client, payload)
          assert.isAbove(received.length, 1)
          assertBytes(concat(received), payload)
        })
      ))

    it.live("an accepted socket echoing its reads (Stream.run(reads, writes)) returns exactly the bytes", () =>
      run(
        d.make(),
        Effect.gen(function*() {
          const { client, peer } = yield* pair(d.host)
          yield* Effect.forkChild(Stream.run(peer.reads, peer.writes))
          const payload = bytes(4 * 1024 * 1024, 11)
          assertBytes(concat(yield* sendThroughReads(client, client, payload)), payload)
        })
      ))

    it.live("two connections read at once (readInto on one, reads on the other) keep their own bytes", () =>
      run(
        d.make(),
        Effect.gen(function*() {
          const one = yield* pair(d.host)
          const two = yield* pair(d.host)
          const a = bytes(1024 * 1024, 1)
          const b = bytes(1024 * 1024, 2)
          const [, , intoOne, readsTwo] = yield* Effect.all([
            writeEach(one.peer, slices(a)),
            writeEach(two.peer, slices(b)),
            readAllInto(one.client, 4096),
            Stream.runCollect(two.client.reads)
          ], { concurrency: 4 })
          assertBytes(concat(intoOne), a)
          assertBytes(concat(readsTwo), b)
        })
      ))

    it.live("an interrupted readInto leaves the socket usable: a later readInto gets every byte", () =>
      run(
        d.make(),
        Effect.gen(function*() {
          const { client, peer } = yield* pair(d.host)
          const timedOut = new Uint8Array(64)
          assert.isTrue(Option.isNone(yield* Effect.timeoutOption(peer.readInto(timedOut), "50 millis")))
          const interrupted = new Uint8Array(64)
          const fiber = yield* Effect.forkChild(peer.readInto(interrupted), { startImmediately: true })
          yield* Fiber.interrupt(fiber)
          assert.isTrue(Exit.hasInterrupts(yield* Fiber.await(fiber)))
          const payload = bytes(5000, 5)
          yield* writeEach(client, [payload])
          // the bytes arrive while no readInto waits (reading stays on): none may go to a stale waiter
          yield* eventually(() => peer.connection.bytesRead === payload.length, "every byte arrived")
          assertBytes(concat(yield* readAllInto(peer, 64)), payload)
          // the abandoned buffers were not written to
          assertBytes(timedOut, new Uint8Array(64))
          assertBytes(interrupted, new Uint8Array(64))
        })
      ))

    it.live("a readInto smaller than what waits keeps the buffered bytes bounded by the read high-water mark", () =>
      run(
        d.make(),
        Effect.gen(function*() {
          const { client, peer } = yield* pair(d.host, { readHighWaterMark: 16384 })
          const chunk = new Uint8Array(65536)
          yield* Effect.forkChild(
            Effect.forEach(Array.from({ length: 128 }), () => peer.write(chunk), { discard: true })
          )
          const buffer = new Uint8Array(1024)
          let total = 0
          let max = 0
          while (total < 4 * 1024 * 1024) {
            total += yield* client.readInto(buffer)
            // a reader doing asynchronous work between reads
            yield* Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))
            max = Math.max(max, yield* client.bufferedBytes)
          }
          // at most the mark plus one read of the driver's (reading restarted on every call: ~8 MiB)
          assert.isAtMost(max, 16384 + 65536)
        })
      ))

    it.live("a waiting readInto fails with a SocketError, not Done, on a peer reset and on the idle timeout", () =>
      run(
        d.make(),
        Effect.gen(function*() {
          const { client, peer } = yield* pair(d.host)
          const reading = yield* Effect.forkChild(Effect.flip(client.readInto(new Uint8Array(64))), {
            startImmediately: true
          })
          yield* Scope.close(peer.scope, Exit.fail("abort")) // a failed scope aborts with RST
          const reset = yield* Fiber.join(reading)
          assert.isFalse(Cause.isDone(reset))
          assert.strictEqual(reset._tag === "SocketError" && reset.reason, "ConnectionReset")

          const idle = yield* pair(d.host, { idleTimeout: "100 millis" })
          const timedOut = yield* Effect.flip(idle.client.readInto(new Uint8Array(64)))
          assert.strictEqual(timedOut._tag === "SocketError" && timedOut.reason, "TimedOut")
        })
      ))
  })
}
