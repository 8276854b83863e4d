/**
 * Sluice's Effect face over the node adapter: `Network.listen` /
 * `Network.connect`, reads as a `Stream`, writes through `Socket.write` or the
 * `writes` sink.
 */
import * as Network from "@sluice/core/Network"
import * as Socket from "@sluice/core/Socket"
import { driver } from "@sluice/node-adapter/NodeDriver"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import type { Peer, PingPongResult, ServerMode } from "./common.ts"
import { encodeCount, MESSAGE, micros, readCount } from "./common.ts"

const HOST = "127.0.0.1"
const ONE = new Uint8Array([0x62])

const countBytes = (n: number, c: Uint8Array) => n + c.length

const sinkHandler = (s: Socket.Socket) =>
  Socket.use(s, (s) => Effect.flatMap(Stream.runFold(s.reads, () => 0, countBytes), (n) => s.write(encodeCount(n))))

const echoHandler = (s: Socket.Socket) => Socket.use(s, (s) => Stream.run(s.reads, s.writes))

/** Builds the peer over a `Network` (the node driver's, or the memory network's). */
export const make = (net: Network.NetworkShape): Peer => {
  const server = (mode: ServerMode): Promise<number> =>
    new Promise((resolve, reject) => {
      const program = Effect.scoped(Effect.gen(function*() {
        const srv = yield* net.listen({
          host: HOST,
          port: 0,
          backlog: 4096,
          allowHalfOpen: mode === "sink",
          noDelay: mode === "echo"
        })
        resolve(srv.address._tag === "Tcp" ? srv.address.port : 0)
        const handler = mode === "sink" ? sinkHandler : echoHandler
        yield* Stream.runForEach(srv.accept, (s) => Effect.forkDetach(Effect.ignore(handler(s))))
      }))
      Effect.runPromise(program).catch(reject)
    })

  const writeTotal = (s: Socket.Socket, total: number, chunk: Uint8Array) =>
    Effect.gen(function*() {
      for (let sent = 0; sent < total; sent += chunk.length) yield* s.write(chunk)
      yield* s.endOfOutput
    })

  const bulk = (port: number, total: number, chunk: Uint8Array): Promise<number> =>
    Effect.runPromise(Effect.scoped(Effect.gen(function*() {
      const s = yield* net.connect({ host: HOST, port, allowHalfOpen: true })
      yield* writeTotal(s, total, chunk)
      const answer = yield* Stream.runCollect(s.reads)
      return readCount(Buffer.concat(answer))
    })))

  const echo = (port: number, total: number, chunk: Uint8Array): Promise<number> =>
    Effect.runPromise(Effect.scoped(Effect.gen(function*() {
      const s = yield* net.connect({ host: HOST, port })
      const [, received] = yield* Effect.all([
        writeTotal(s, total, chunk),
        Stream.runFold(s.reads, () => 0, countBytes)
      ], { concurrency: 2 })
      return received
    })))

  const pingpong = (port: number, conns: number, deadline: number): Promise<PingPongResult> => {
    const latencies: Array<number> = []
    const one = Effect.scoped(Effect.gen(function*() {
      const s = yield* net.connect({ host: HOST, port, noDelay: true })
      const pull = yield* Stream.toPull(s.reads)
      while (true) {
        const t0 = performance.now()
        yield* s.write(MESSAGE)
        let got = 0
        while (got < MESSAGE.length) {
          const chunks = yield* pull
          for (const c of chunks) got += c.length
        }
        latencies.push(micros(t0))
        if (performance.now() >= deadline) break
      }
    }))
    return Effect.runPromise(Effect.all(Array.from({ length: conns }, () => one), { concurrency: "unbounded" })).then(
      () => ({ requests: latencies.length, latencies })
    )
  }

  const churn = (port: number, concurrency: number, deadline: number): Promise<number> => {
    let count = 0
    const once = Effect.scoped(Effect.gen(function*() {
      const s = yield* net.connect({ host: HOST, port })
      yield* s.write(ONE)
      yield* Stream.runForEach(s.reads, () => s.endOfOutput)
    }))
    const loop = Effect.gen(function*() {
      while (performance.now() < deadline) {
        yield* once
        count++
      }
    })
    return Effect.runPromise(
      Effect.all(Array.from({ length: concurrency }, () => loop), { concurrency: "unbounded" })
    ).then(() => count)
  }

  return { server, bulk, echo, pingpong, churn }
}

/** The peer over the node driver. */
export const peer: Peer = make(Network.make(driver))
