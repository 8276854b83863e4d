/**
 * Backpressure by bytes on the write side, on every driver: whatever the size
 * of a batch (`writes` fed by a stream that batches thousands of chunks,
 * `writeAll` of a large array, `write` of one large chunk), a socket holds at
 * most about its write high-water mark (plus one chunk) beyond what the
 * platform took. Measured, not reasoned: a driver wrapper records the
 * platform's write queue (`Handle.writeQueueSize`) and the engine's
 * (`queuedBytes`) right after every write the engine issues.
 */
import { assert, describe, it } from "@effect/vitest"
import type { Driver, Handle } from "@sluice/core/Driver"
import * as Network from "@sluice/core/Network"
import type * as Socket from "@sluice/core/Socket"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { drivers } from "./drivers.ts"
import { run, tcpPort } from "./helpers.ts"

/** What a measured driver saw of its dialled handles' writes. */
interface WriteLog {
  /** Driver writes issued. */
  writes: number
  /** The largest write handed to the driver, in bytes. */
  largestWrite: number
  /** The largest platform queue right after a write (bytes accepted, not yet handed to the kernel). */
  maxPlatformQueue: number
  /** The largest engine queue right after a write (`queuedBytes`). */
  maxEngineQueue: number
}

/** Wraps `inner` so that every write of a dialled handle is measured; `engine` reads the engine's queue. */
const measured = (inner: Driver, engine: () => number): { readonly driver: Driver; readonly log: WriteLog } => {
  const log: WriteLog = { writes: 0, largestWrite: 0, maxPlatformQueue: 0, maxEngineQueue: 0 }
  const wrap = (h: Handle): Handle => {
    const write: Handle["write"] = (chunks, callback) => {
      let size = 0
      for (const c of chunks) size += c.length
      const sent = h.write(chunks, callback)
      log.writes++
      log.largestWrite = Math.max(log.largestWrite, size)
      log.maxPlatformQueue = Math.max(log.maxPlatformQueue, h.writeQueueSize)
      // the engine counts this write until it returns; one the platform took at once is not queued
      log.maxEngineQueue = Math.max(log.maxEngineQueue, engine() - (sent === true ? size : 0))
      return sent
    }
    return new Proxy(h, {
      get: (target, key) => {
        if (key === "write") return write
        const value = Reflect.get(target, key, target)
        return typeof value === "function" ? value.bind(target) : value
      }
    })
  }
  const driver: Driver = {
    ...inner,
    connect: (target, callback) =>
      inner.connect(target, (error, handle) => callback(error, handle === undefined ? undefined : wrap(handle)))
  }
  return { driver, log }
}

const KiB = 1024
const chunkSize = 16 * KiB
const chunkCount = 512 // 8 MiB: more than the kernel's loopback buffers take at once
const total = chunkSize * chunkCount
const writeHighWaterMark = 64 * KiB

const chunkOf = (i: number): Uint8Array => new Uint8Array(chunkSize).fill(i & 0xff)

/** Reads everything the peer sends, in small reads, into a checksum: (bytes, sum of byte values). */
const readAll = (peer: Socket.Socket) =>
  Effect.gen(function*() {
    const buffer = new Uint8Array(4 * KiB)
    let bytes = 0
    let sum = 0
    while (true) {
      const n = yield* Effect.catchIf(peer.readInto(buffer), Cause.isDone, () => Effect.succeed(-1))
      if (n < 0) return { bytes, sum }
      bytes += n
      for (let i = 0; i < n; i++) sum += buffer[i]!
    }
  })

const expectedSum = (() => {
  let sum = 0
  for (let i = 0; i < chunkCount; i++) sum += (i & 0xff) * chunkSize
  return sum
})()

type Writer = (socket: Socket.Socket) => Effect.Effect<void, unknown>

const writers: ReadonlyArray<readonly [string, Writer]> = [
  [
    "the writes sink, fed by a generator one batch of 512 chunks long",
    (socket) =>
      Stream.run(
        Stream.fromIterable(
          (function*() {
            for (let i = 0; i < chunkCount; i++) yield chunkOf(i)
          })()
        ),
        socket.writes
      )
  ],
  ["writeAll of 512 chunks", (socket) => socket.writeAll(Array.from({ length: chunkCount }, (_, i) => chunkOf(i)))],
  [
    "write of one 8 MiB chunk",
    (socket) =>
      Effect.suspend(() => {
        const big = new Uint8Array(total)
        for (let i = 0; i < chunkCount; i++) big.fill(i & 0xff, i * chunkSize, (i + 1) * chunkSize)
        return socket.write(big)
      })
  ]
]

for (const d of drivers) {
  describe(`write backpressure by bytes on the ${d.name} driver`, () => {
    for (const [name, writer] of writers) {
      it.live(`${name}: at most the high-water mark plus one chunk is queued beyond the platform`, () => {
        let client: Socket.Socket | undefined
        const m = measured(d.make(), () => client?.connection.queuedBytes ?? 0)
        const log = m.log
        return run(
          m.driver,
          Effect.gen(function*() {
            const server = yield* Network.listen({ host: d.host, port: 0, readHighWaterMark: 16 * KiB })
            client = yield* Network.connect({ host: d.host, port: tcpPort(server.address), writeHighWaterMark })
            const socket = client
            const peer = yield* Effect.map(Stream.runHead(server.accept), Option.getOrThrow)
            const reader = yield* Effect.forkChild(readAll(peer))
            yield* writer(socket)
            yield* socket.endOfOutput
            const received = yield* Fiber.join(reader)
            assert.strictEqual(received.bytes, total, "every byte arrived")
            assert.strictEqual(received.sum, expectedSum, "in order, intact")
            const bound = writeHighWaterMark + chunkSize
            assert.isAtMost(log.maxPlatformQueue, bound, `platform queue ${log.maxPlatformQueue} > ${bound}`)
            assert.isAtMost(log.largestWrite, bound, `a write of ${log.largestWrite} bytes was issued at once`)
            assert.isAtMost(log.maxEngineQueue, bound, `engine queue ${log.maxEngineQueue} > ${bound}`)
            assert.isAbove(log.writes, total / bound, "the batch went out in pieces")
          })
        )
      })
    }
  })
}
