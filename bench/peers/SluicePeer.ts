/**
 * Sluice's Effect face: `Network.listen` / `Network.connect`, over the node
 * driver or any other. Two styles of the same face:
 *
 * - `pull`: reads with `socket.pull` (a batch of chunks per pull) and writes
 *   with `socket.write` / `socket.writeAll`, like the effect/socket peer does
 *   with `reader.pull` / `writer.writeAll`;
 * - `stream`: reads as the `socket.reads` Stream and writes through the
 *   `socket.writes` Sink (`Stream.run(socket.reads, socket.writes)`).
 */
import type { SocketError } from "@sluice/core/NetError"
import * as Network from "@sluice/core/Network"
import * as Server from "@sluice/core/Server"
import * as Socket from "@sluice/core/Socket"
import { driver } from "@sluice/node-adapter/NodeDriver"
import * as NodeTls from "@sluice/node-adapter/NodeTls"
import type { NonEmptyReadonlyArray } from "effect/Array"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import type { Peer, PingPongResult, ServerMode, TlsMaterial } from "./common.ts"
import { encodeCount, MESSAGE, micros, readCount } from "./common.ts"

const HOST = "127.0.0.1"
const ONE = new Uint8Array([0x62])

/** How the peer uses the face. */
export type Style = "pull" | "stream"

const countBytes = (n: number, c: Uint8Array) => n + c.length

const countChunks = (chunks: ReadonlyArray<Uint8Array>) => {
  let n = 0
  for (let i = 0; i < chunks.length; i++) n += chunks[i]!.length
  return n
}

/** Runs `f` on every batch until the clean end of input. */
const eachBatch = <E>(
  s: Socket.Socket,
  f: (chunks: NonEmptyReadonlyArray<Uint8Array>) => Effect.Effect<void, E>
) =>
  Effect.catch(
    Effect.forever(Effect.flatMap(s.pull, f), { disableYield: true }),
    (e) => (Cause.isDone(e) ? Effect.void : Effect.fail(e))
  )

/** Counts the bytes until the clean end of input: a counter keeps no chunk, so it reads into one reused buffer. */
const countInto = (s: Socket.Socket): Effect.Effect<number, SocketError> =>
  Effect.suspend(() => {
    const buffer = new Uint8Array(65536)
    let n = 0
    const loop = Effect.forever(
      Effect.map(s.readInto(buffer), (k) => {
        n += k
      }),
      { disableYield: true }
    )
    return Effect.andThen(
      Effect.catch(loop, (e) => (Cause.isDone(e) ? Effect.void : Effect.fail(e))),
      Effect.sync(() => n)
    )
  })

/**
 * Builds the peer over a `Network` (the node driver's, or the memory
 * network's); with `tls`, every listen and connect has its `tls` option and
 * runs with `NodeTls.layer`, and the server runs its handlers with
 * `Server.serve` (the shape the core README shows), not a loop over `accept`.
 */
export const make = (net: Network.NetworkShape, style: Style = "pull", tls?: TlsMaterial): Peer => {
  const stream = style === "stream"
  const listenTls = tls === undefined ? {} : { tls: { key: tls.key, cert: tls.cert } }
  const connectTls = tls === undefined ? {} : { tls: { ca: tls.ca, servername: "localhost" } }
  const runPromise = <A, E>(effect: Effect.Effect<A, E>): Promise<A> =>
    Effect.runPromise(tls === undefined ? effect : Effect.provide(effect, NodeTls.layer))

  const sinkHandler = (s: Socket.Socket) =>
    Socket.use(s, (s) => {
      if (stream) {
        return Effect.flatMap(Stream.runFold(s.reads, () => 0, countBytes), (n) => s.write(encodeCount(n)))
      }
      return Effect.flatMap(countInto(s), (n) => s.write(encodeCount(n)))
    })

  const echoHandler = (s: Socket.Socket) =>
    Socket.use(s, (s) => (stream ? Stream.run(s.reads, s.writes) : eachBatch(s, s.writeAll)))

  const server = (mode: ServerMode): Promise<number> =>
    new Promise((resolve, reject) => {
      const program = Effect.scoped(Effect.gen(function*() {
        const srv = yield* net.listen({
          host: HOST,
          port: 0,
          backlog: 4096,
          allowHalfOpen: mode === "sink",
          noDelay: mode === "echo",
          ...listenTls
        })
        resolve(srv.address._tag === "Tcp" ? srv.address.port : 0)
        const handler = mode === "sink" ? sinkHandler : echoHandler
        if (tls !== undefined) {
          yield* Server.serve(srv, handler)
          return yield* Effect.never
        }
        yield* Stream.runForEach(srv.accept, (s) => Effect.forkDetach(Effect.ignore(handler(s))))
      }))
      runPromise(program).catch(reject)
    })

  const writeTotal = (s: Socket.Socket, total: number, chunk: Uint8Array) =>
    Effect.gen(function*() {
      for (let sent = 0; sent < total; sent += chunk.length) yield* s.write(chunk)
      yield* s.endOfOutput
    })

  const readAll = (s: Socket.Socket): Effect.Effect<Array<Uint8Array>, unknown> => {
    if (stream) return Stream.runCollect(s.reads)
    const out: Array<Uint8Array> = []
    return Effect.as(
      eachBatch(s, (chunks) =>
        Effect.sync(() => {
          out.push(...chunks)
        })),
      out
    )
  }

  const bulk = (port: number, total: number, chunk: Uint8Array): Promise<number> =>
    runPromise(Effect.scoped(Effect.gen(function*() {
      const s = yield* net.connect({ host: HOST, port, allowHalfOpen: true, ...connectTls })
      yield* writeTotal(s, total, chunk)
      const answer = yield* readAll(s)
      return readCount(Buffer.concat(answer))
    })))

  const echo = (port: number, total: number, chunk: Uint8Array): Promise<number> =>
    runPromise(Effect.scoped(Effect.gen(function*() {
      const s = yield* net.connect({ host: HOST, port, ...connectTls })
      let received = 0
      const reader = stream
        ? Effect.map(Stream.runFold(s.reads, () => 0, countBytes), (n) => {
          received = n
        })
        : Effect.map(countInto(s), (n) => {
          received = n
        })
      yield* Effect.all([writeTotal(s, total, chunk), reader], { concurrency: 2 })
      return received
    })))

  const pingpong = (port: number, conns: number, deadline: number): Promise<PingPongResult> => {
    const latencies: Array<number> = []
    const one = Effect.scoped(Effect.gen(function*() {
      const s = yield* net.connect({ host: HOST, port, noDelay: true, ...connectTls })
      const pull = stream ? yield* Stream.toPull(s.reads) : s.pull
      while (true) {
        const t0 = performance.now()
        yield* s.write(MESSAGE)
        let got = 0
        while (got < MESSAGE.length) got += countChunks(yield* pull)
        latencies.push(micros(t0))
        if (performance.now() >= deadline) break
      }
    }))
    return runPromise(Effect.all(Array.from({ length: conns }, () => one), { concurrency: "unbounded" })).then(
      () => ({ requests: latencies.length, latencies })
    )
  }

  const churn = (port: number, concurrency: number, deadline: number): Promise<number> => {
    let count = 0
    const once = Effect.scoped(Effect.gen(function*() {
      const s = yield* net.connect({ host: HOST, port, ...connectTls })
      yield* s.write(ONE)
      if (stream) yield* Stream.runForEach(s.reads, () => s.endOfOutput)
      else yield* eachBatch(s, () => s.endOfOutput)
    }))
    const loop = Effect.gen(function*() {
      while (performance.now() < deadline) {
        yield* once
        count++
      }
    })
    return runPromise(
      Effect.all(Array.from({ length: concurrency }, () => loop), { concurrency: "unbounded" })
    ).then(() => count)
  }

  return { server, bulk, echo, pingpong, churn }
}

/** The peer over the node driver, `pull` style. */
export const peer: Peer = make(Network.make(driver), "pull")

/** The peer over the node driver, `stream` style. */
export const streamPeer: Peer = make(Network.make(driver), "stream")

/** The peer over the node driver with TLS, in `style`. */
export const tlsPeer = (tls: TlsMaterial, style: Style): Peer => make(Network.make(driver), style, tls)
