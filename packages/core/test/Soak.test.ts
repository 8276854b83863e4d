/**
 * A bounded soak over real sockets: tens of thousands of connections opened
 * and closed and a gibibyte moved, ending with as many open file descriptors
 * as it began with and no heap growth beyond noise.
 *
 * Bounded work, generous timeout: it must stay green on a small, busy machine.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Network from "@sluice/core/Network"
import * as Server from "@sluice/core/Server"
import type * as Socket from "@sluice/core/Socket"
import { driver } from "@sluice/node-adapter/NodeDriver"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Stream from "effect/Stream"
import * as fs from "node:fs"
import * as v8 from "node:v8"
import * as vm from "node:vm"
import { eventually, pattern, tcpPort } from "./helpers.ts"

const CONNECTIONS = 20_000
const BULK_BYTES = 1024 * 1024 * 1024
const BULK_STREAMS = 4
const CHUNK = 1024 * 1024
const REQUEST = 16

v8.setFlagsFromString("--expose-gc")
const gc = vm.runInNewContext("gc") as () => void

const fdCount = () => fs.readdirSync("/proc/self/fd").length

const heapAfterGc = () => {
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

/** Reads exactly `n` bytes (or fewer if the stream ends first). */
const readAtLeast = (socket: Socket.Socket, n: number) =>
  Effect.gen(function*() {
    let got = 0
    while (got < n) {
      const exit = yield* Effect.exit(socket.pull)
      if (Exit.isFailure(exit)) break
      for (const c of exit.value) got += c.length
    }
    return got
  })

/**
 * The server: a request of REQUEST bytes is answered with REQUEST bytes and
 * the server closes first (so TIME_WAIT stays on its side, not on the
 * client's ephemeral ports); a bulk upload is counted and answered with its
 * byte count.
 */
const handler = (socket: Socket.Socket) =>
  Effect.gen(function*() {
    const first = yield* socket.pull
    if (first[0]![0] === 0x42) {
      // bulk: count to the end, reply with the count
      let total = 0
      for (const c of first) total += c.length
      yield* Stream.runForEach(socket.reads, (c) =>
        Effect.sync(() => {
          total += c.length
        }))
      yield* socket.write(String(total))
      return
    }
    let got = 0
    for (const c of first) got += c.length
    if (got < REQUEST) got += yield* readAtLeast(socket, REQUEST - got)
    yield* socket.write(pattern(REQUEST))
  })

const churn = (port: number, count: number) =>
  Effect.forEach(
    Array.from({ length: count }, (_, i) => i),
    () =>
      Effect.scoped(Effect.gen(function*() {
        const client = yield* Network.connect({ host: "127.0.0.1", port })
        yield* client.write(pattern(REQUEST, 1))
        let got = 0
        yield* Stream.runForEach(client.reads, (c) =>
          Effect.sync(() => {
            got += c.length
          }))
        if (got !== REQUEST) return yield* Effect.die(new Error(`reply of ${got} bytes`))
      })),
    { concurrency: 32, discard: true }
  )

const bulk = (port: number, bytes: number) =>
  Effect.forEach(
    Array.from({ length: BULK_STREAMS }, (_, i) => i),
    () =>
      Effect.scoped(Effect.gen(function*() {
        const client = yield* Network.connect({ host: "127.0.0.1", port })
        const chunk = pattern(CHUNK)
        chunk[0] = 0x42
        const per = bytes / BULK_STREAMS
        for (let sent = 0; sent < per; sent += CHUNK) yield* client.write(chunk)
        yield* client.endOfOutput
        let reply = ""
        const decoder = new TextDecoder()
        yield* Stream.runForEach(client.reads, (c) =>
          Effect.sync(() => {
            reply += decoder.decode(c)
          }))
        return Number(reply)
      })),
    { concurrency: BULK_STREAMS }
  )

describe("soak (node driver)", () => {
  it.live("20,000 connections and 1 GiB: no descriptor or heap leaks", () =>
    Effect.provide(
      Effect.gen(function*() {
        const started = Date.now()
        const round = (connections: number, bytes: number) =>
          Effect.scoped(Effect.gen(function*() {
            const server = yield* Network.listen({ host: "127.0.0.1", port: 0, backlog: 1024 })
            const port = tcpPort(server.address)
            const serving = yield* Server.serve(server, handler, { concurrency: 256 })
            yield* churn(port, connections)
            const received = yield* bulk(port, bytes)
            const stats = yield* serving.stats
            return { received, stats }
          }))

        // warm up: lazily created descriptors (epoll, timers) and code paths exist afterwards
        const warm = yield* round(2_000, 64 * CHUNK)
        assert.strictEqual(warm.stats.failed, 0)
        const fdsBefore = fdCount()
        const heapBefore = heapAfterGc()

        const { received, stats } = yield* round(CONNECTIONS, BULK_BYTES)
        assert.strictEqual(stats.accepted, CONNECTIONS + BULK_STREAMS)
        assert.strictEqual(stats.succeeded, CONNECTIONS + BULK_STREAMS)
        assert.strictEqual(stats.failed, 0)
        assert.strictEqual(received.reduce((a, b) => a + b, 0), BULK_BYTES)

        yield* eventually(() => fdCount() <= fdsBefore, "descriptors released", 20_000)
        assert.strictEqual(fdCount(), fdsBefore)
        const growth = heapAfterGc() - heapBefore
        assert.isBelow(growth, 16 * 1024 * 1024, `heap grew by ${(growth / 1048576).toFixed(1)} MiB`)
        const elapsed = Date.now() - started
        assert.isBelow(elapsed, 120_000, `took ${elapsed} ms`)
      }),
      Network.layer(driver)
    ), { timeout: 180_000 })
})
