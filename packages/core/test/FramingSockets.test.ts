/**
 * Framing over sockets, on every driver and on the memory network with
 * seeded slicing (`slice: 1` and random piece sizes): frames arrive whole,
 * exactly once, in order, whatever the reads they were cut into; a Reader
 * mixes lines, exact-N reads and a framed rest over `socket.pull`; oversize
 * and truncated frames are typed errors on the receiving side.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Framing from "@sluice/core/Framing"
import type * as Network from "@sluice/core/Network"
import * as Testing from "@sluice/core/Testing"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { drivers } from "./drivers.ts"
import { connectedPair, run } from "./helpers.ts"
import { equalBytes, makeFrames, reversed } from "./MemoryProtocols.ts"

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** Counts the chunks and the largest chunk a stream delivers. */
const counted = (reads: Stream.Stream<Uint8Array, unknown>) => {
  const seen = { chunks: 0, largest: 0 }
  const stream = reads.pipe(Stream.mapArray((chunks) => {
    seen.chunks += chunks.length
    for (const c of chunks) seen.largest = Math.max(seen.largest, c.length)
    return chunks
  }))
  return { stream, seen }
}

type Body = Effect.Effect<void, unknown, Network.Network | Scope.Scope>

interface Scenario {
  readonly name: string
  /**
   * The body, given the host, whether to move many bytes (real sockets) or a
   * few (one-byte slicing), and the slicing fault in force.
   */
  readonly body: (host: string, big: boolean, slice?: number) => Body
}

const scenarios: ReadonlyArray<Scenario> = [
  {
    name: "length-prefixed frames echoed reversed: whole, exactly once, in order",
    body: (host, big, slice) =>
      Effect.gen(function*() {
        const frames = big ? makeFrames(300, 8000, 3) : makeFrames(60, 300, 3)
        const { client, peer } = yield* connectedPair(host)
        const server = counted(peer.reads)
        const serving = server.stream.pipe(
          Framing.decodeLengthPrefixed({ headerSize: 2 }),
          Stream.map(reversed),
          Framing.encodeLengthPrefixed({ headerSize: 2 }),
          Stream.run(peer.writes)
        )
        const sending = Stream.fromIterable(frames).pipe(
          Framing.encodeLengthPrefixed({ headerSize: 2 }),
          Stream.run(client.writes),
          Effect.andThen(client.endOfOutput)
        )
        const receiving = Stream.runCollect(client.reads.pipe(Framing.decodeLengthPrefixed({ headerSize: 2 })))
        const [, , answers] = yield* Effect.all([serving, sending, receiving], { concurrency: 3 })
        assert.strictEqual(answers.length, frames.length, "frames lost or duplicated")
        for (let i = 0; i < frames.length; i++) {
          assert.isTrue(equalBytes(answers[i]!, reversed(frames[i]!)), `frame ${i} corrupted`)
        }
        if (slice !== undefined) {
          // the frames really were cut into tiny reads
          const bytes = frames.reduce((t, f) => t + 2 + f.length, 0)
          assert.isAtMost(server.seen.largest, slice)
          assert.isAtLeast(server.seen.chunks, Math.floor(bytes / slice))
        }
      })
  },
  {
    name: "lines with \\n and \\r\\n answered in upper case",
    body: (host, big) =>
      Effect.gen(function*() {
        const count = big ? 2000 : 100
        const lines = Array.from({ length: count }, (_, i) => `line ${i} ${"x".repeat(i % 97)}`)
        const { client, peer } = yield* connectedPair(host)
        const serving = peer.reads.pipe(
          Framing.decodeLines({ maxFrameSize: 200 }),
          Stream.map((line) => encoder.encode(decoder.decode(line).toUpperCase())),
          Framing.encodeLines({ terminator: "\r\n" }),
          Stream.run(peer.writes)
        )
        const sending = Effect.gen(function*() {
          // half the lines end with \n, half with \r\n
          yield* Stream.fromIterable(lines.slice(0, count / 2).map((l) => encoder.encode(l))).pipe(
            Framing.encodeLines(),
            Stream.run(client.writes)
          )
          yield* Stream.fromIterable(lines.slice(count / 2).map((l) => encoder.encode(l))).pipe(
            Framing.encodeLines({ terminator: "\r\n" }),
            Stream.run(client.writes)
          )
          yield* client.endOfOutput
        })
        const receiving = Stream.runCollect(
          client.reads.pipe(Framing.decodeLines(), Stream.map((l) => decoder.decode(l)))
        )
        const [, , answers] = yield* Effect.all([serving, sending, receiving], { concurrency: 3 })
        assert.deepStrictEqual(answers, lines.map((l) => l.toUpperCase()))
      })
  },
  {
    name: "a Reader over socket.pull: a header line, exact-N records, then a framed rest",
    body: (host, big) =>
      Effect.gen(function*() {
        const records = big ? 500 : 20
        const frames = big ? makeFrames(200, 4000, 9) : makeFrames(20, 200, 9)
        const { client, peer } = yield* connectedPair(host)
        const serving = Effect.gen(function*() {
          const reader = Framing.reader(peer.pull)
          const header = decoder.decode(yield* reader.readLine())
          const n = Number(/^RECORDS (\d+)$/.exec(header)?.[1])
          let sum = 0
          for (let i = 0; i < n; i++) {
            const record = yield* reader.readExactly(6)
            sum += Number(decoder.decode(record))
          }
          const rest = yield* Stream.runCollect(reader.rest.pipe(Framing.decodeLengthPrefixed()))
          yield* peer.write(`${n} ${sum} ${rest.length} ${rest.reduce((t, f) => t + f.length, 0)}\n`)
        })
        const sending = Effect.gen(function*() {
          yield* client.write(`RECORDS ${records}\r\n`)
          for (let i = 0; i < records; i++) yield* client.write(String(i).padStart(6, "0"))
          yield* Stream.fromIterable(frames).pipe(Framing.encodeLengthPrefixed(), Stream.run(client.writes))
          yield* client.endOfOutput
        })
        const receiving = Stream.runCollect(
          client.reads.pipe(Framing.decodeLines(), Stream.map((l) => decoder.decode(l)))
        )
        const [, , answer] = yield* Effect.all([serving, sending, receiving], { concurrency: 3 })
        const bytes = frames.reduce((t, f) => t + f.length, 0)
        assert.deepStrictEqual(answer, [`${records} ${(records * (records - 1)) / 2} ${frames.length} ${bytes}`])
      })
  },
  {
    name: "an oversize frame fails the receiver with FrameTooLarge before its payload; the frames before it arrive",
    body: (host) =>
      Effect.gen(function*() {
        const { client, peer } = yield* connectedPair(host)
        const received: Array<string> = []
        const serving = peer.reads.pipe(
          Framing.decodeLengthPrefixed({ maxFrameSize: 1000 }),
          Stream.runForEach((f) => Effect.sync(() => received.push(decoder.decode(f)))),
          Effect.flip
        )
        // one good frame, then a header announcing 2 MB, and only 10 bytes of it
        const good = yield* Framing.lengthPrefix(encoder.encode("fine"))
        yield* client.writeAll([...good, Uint8Array.of(0, 0x20, 0, 0), new Uint8Array(10)])
        const error = yield* serving
        assert.deepStrictEqual(received, ["fine"])
        assert.strictEqual(error._tag, "FramingError")
        if (error._tag !== "FramingError") return
        assert.strictEqual(error.reason, "FrameTooLarge")
        assert.strictEqual(error.frameSize, 0x200000)
      })
  },
  {
    name: "a peer that ends inside a frame fails the receiver with Truncated; a clean end between frames does not",
    body: (host) =>
      Effect.gen(function*() {
        const { client, peer } = yield* connectedPair(host)
        yield* client.writeAll([Uint8Array.of(0, 3, 1, 2, 3), Uint8Array.of(0, 10, 1, 2, 3)])
        yield* client.endOfOutput
        const received: Array<number> = []
        const error = yield* peer.reads.pipe(
          Framing.decodeLengthPrefixed({ headerSize: 2 }),
          Stream.runForEach((f) => Effect.sync(() => received.push(f.length))),
          Effect.flip
        )
        assert.deepStrictEqual(received, [3])
        assert.strictEqual(error._tag, "FramingError")
        if (error._tag !== "FramingError") return
        assert.deepInclude(error, { reason: "Truncated", frameSize: 10, received: 3 })

        const second = yield* connectedPair(host)
        yield* second.client.writeAll([Uint8Array.of(0, 2, 1, 2)])
        yield* second.client.endOfOutput
        const frames = yield* Stream.runCollect(second.peer.reads.pipe(Framing.decodeLengthPrefixed({ headerSize: 2 })))
        assert.strictEqual(frames.length, 1)
      })
  }
]

for (const d of drivers) {
  describe(`Framing on the ${d.name} driver`, () => {
    for (const s of scenarios) {
      it.live(s.name, () => run(d.make(), s.body(d.host, true)), 30_000)
    }
  })
}

/** Seeded slicing on the memory network: one-byte pieces, and random piece sizes up to 2..64 bytes. */
const slicings: ReadonlyArray<{ readonly seed: number; readonly slice: number }> = [
  { seed: 1, slice: 1 },
  { seed: 2, slice: 1 },
  ...[3, 4, 5, 6].map((seed) => ({ seed, slice: 2 + ((seed * 2654435761) >>> 0) % 63 }))
]

for (const { seed, slice } of slicings) {
  describe(`Framing on the memory network, seed ${seed}, slice: ${slice}`, () => {
    for (const s of scenarios) {
      it.effect(
        s.name,
        () => Testing.run(Testing.layerMemory({ seed, faults: [{ slice }] }), s.body("127.0.0.1", false, slice))
      )
    }
  })
}
