/**
 * effect's own `effect/socket` over `@effect/platform-node`: `NodeSocketServer`
 * and `NodeSocket.makeNet`, reading with `reader.pull` (batches of chunks) and
 * writing with `writer.write` / `writer.writeAll`.
 */
import * as NodeSocket from "@effect/platform-node/NodeSocket"
import * as NodeSocketServer from "@effect/platform-node/NodeSocketServer"
import * as Effect from "effect/Effect"
import * as Scope from "effect/Scope"
import type * as Socket from "effect/socket/Socket"
import type { Peer, PingPongResult, ServerMode, TlsMaterial } from "./common.ts"
import { encodeCount, MESSAGE, micros, readCount } from "./common.ts"

const HOST = "127.0.0.1"
const ONE = new Uint8Array([0x62])

type Pull = Effect.Effect<ReadonlyArray<Uint8Array | string>, Socket.SocketError>

const size = (c: Uint8Array | string) => (typeof c === "string" ? Buffer.byteLength(c) : c.length)

/** Pulls until the socket ends (a pull fails once the peer closed), calling `f` on each batch. */
const pullAll = (
  pull: Pull,
  f: (chunks: ReadonlyArray<Uint8Array | string>) => Effect.Effect<void, Socket.SocketError>
) => Effect.ignore(Effect.forever(Effect.flatMap(pull, f), { disableYield: true }))

const sinkHandler = (socket: Socket.Socket) =>
  Effect.scoped(Effect.gen(function*() {
    const { pull } = yield* socket.reader
    const writer = yield* socket.writer
    let n = 0
    yield* pullAll(pull, (chunks) =>
      Effect.sync(() => {
        for (const c of chunks) n += size(c)
      }))
    yield* writer.write(encodeCount(n))
  }))

const echoHandler = (socket: Socket.Socket) =>
  Effect.scoped(Effect.gen(function*() {
    const { pull } = yield* socket.reader
    const writer = yield* socket.writer
    yield* pullAll(pull, (chunks) => writer.writeAll(chunks as [Uint8Array | string, ...Array<Uint8Array | string>]))
  }))

/** The peer; with `tls`, over `NodeSocketServer.makeTls` and `NodeSocket.makeTls`. */
const make = (tls?: TlsMaterial): Peer => {
  const server = (mode: ServerMode): Promise<number> =>
    new Promise((resolve, reject) => {
      const program = Effect.scoped(Effect.gen(function*() {
        const options = {
          host: HOST,
          port: 0,
          backlog: 4096,
          allowHalfOpen: mode === "sink",
          noDelay: mode === "echo"
        }
        const srv = yield* (tls === undefined
          ? NodeSocketServer.make(options)
          : NodeSocketServer.makeTls({ ...options, key: tls.key, cert: tls.cert }))
        resolve(srv.address._tag === "UnixPathAddress" ? 0 : srv.address.port)
        const handler = mode === "sink" ? sinkHandler : echoHandler
        yield* srv.run((socket) => Effect.ignore(handler(socket)))
      }))
      Effect.runPromise(program).catch(reject)
    })

  /** Opens a connection; returns its pull and a writer living in its own scope (closing it half-closes). */
  const open = (port: number, options: { allowHalfOpen?: boolean; noDelay?: boolean } = {}) =>
    Effect.gen(function*() {
      const socket = yield* (tls === undefined
        ? NodeSocket.makeNet({ host: HOST, port, ...options })
        : NodeSocket.makeTls({ host: HOST, port, ...options, ca: tls.ca, servername: "localhost" }))
      const { pull } = yield* socket.reader
      const writeScope = yield* Scope.make()
      const writer = yield* Scope.provide(socket.writer, writeScope)
      return { pull: pull as Pull, writer, end: Scope.close(writeScope, Effect.void as never) }
    })

  const writeTotal = (writer: Socket.Writer, total: number, chunk: Uint8Array) =>
    Effect.gen(function*() {
      for (let sent = 0; sent < total; sent += chunk.length) yield* writer.write(chunk)
    })

  const bulk = (port: number, total: number, chunk: Uint8Array): Promise<number> =>
    Effect.runPromise(Effect.scoped(Effect.gen(function*() {
      const c = yield* open(port, { allowHalfOpen: true })
      yield* writeTotal(c.writer, total, chunk)
      yield* c.end
      const answer: Array<Uint8Array> = []
      yield* pullAll(c.pull, (chunks) =>
        Effect.sync(() => {
          for (const x of chunks) if (typeof x !== "string") answer.push(x)
        }))
      return readCount(Buffer.concat(answer))
    })))

  const echo = (port: number, total: number, chunk: Uint8Array): Promise<number> =>
    Effect.runPromise(Effect.scoped(Effect.gen(function*() {
      const c = yield* open(port)
      let received = 0
      yield* Effect.all([
        Effect.andThen(writeTotal(c.writer, total, chunk), c.end),
        pullAll(c.pull, (chunks) =>
          Effect.sync(() => {
            for (const x of chunks) received += size(x)
          }))
      ], { concurrency: 2 })
      return received
    })))

  const pingpong = (port: number, conns: number, deadline: number): Promise<PingPongResult> => {
    const latencies: Array<number> = []
    const one = Effect.scoped(Effect.gen(function*() {
      const c = yield* open(port, { noDelay: true })
      while (true) {
        const t0 = performance.now()
        yield* c.writer.write(MESSAGE)
        let got = 0
        while (got < MESSAGE.length) {
          const chunks = yield* c.pull
          for (const x of chunks) got += size(x)
        }
        latencies.push(micros(t0))
        if (performance.now() >= deadline) break
      }
      yield* c.end
    }))
    return Effect.runPromise(Effect.all(Array.from({ length: conns }, () => one), { concurrency: "unbounded" })).then(
      () => ({ requests: latencies.length, latencies })
    )
  }

  const churn = (port: number, concurrency: number, deadline: number): Promise<number> => {
    let count = 0
    const once = Effect.scoped(Effect.gen(function*() {
      const c = yield* open(port)
      yield* c.writer.write(ONE)
      yield* c.pull
      yield* c.end
      yield* pullAll(c.pull, () => Effect.void)
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

/** The peer. */
export const peer: Peer = make()

/** The peer over TLS. */
export const tlsPeer = (tls: TlsMaterial): Peer => make(tls)
