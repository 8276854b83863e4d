/**
 * The node:net-style peer: raw `node:net` itself, and `@sluice/compat`, which
 * is a drop-in for it. The same code runs over both modules. Reads are
 * `'data'` events; writes honour backpressure with pause/resume on `'drain'`.
 */
import type * as net from "node:net"
import * as tls from "node:tls"
import type { Peer, PingPongResult, ServerMode, TlsMaterial } from "./common.ts"
import { encodeCount, MESSAGE, micros, readCount } from "./common.ts"

/** The part of the `net` module the peer uses. */
export interface NetLike {
  readonly createServer: typeof net.createServer
  readonly connect: typeof net.connect
}

const HOST = "127.0.0.1"
const ONE = new Uint8Array([0x62])

/** Builds the peer over a `net`-like module. */
export const make = (mod: NetLike): Peer => {
  const server = (mode: ServerMode): Promise<number> =>
    new Promise((resolve, reject) => {
      const srv = mode === "sink"
        ? mod.createServer({ allowHalfOpen: true }, (s) => {
          let n = 0
          s.on("data", (c: Uint8Array) => {
            n += c.length
          })
          s.on("end", () => s.end(encodeCount(n)))
          s.on("error", () => s.destroy())
        })
        : mod.createServer((s) => {
          s.setNoDelay(true)
          s.on("data", (c: Uint8Array) => {
            if (!s.write(c)) {
              s.pause()
              s.once("drain", () => s.resume())
            }
          })
          s.on("error", () => s.destroy())
        })
      srv.once("error", reject)
      srv.listen({ host: HOST, port: 0, backlog: 4096 }, () => {
        const a = srv.address()
        resolve(typeof a === "object" && a !== null ? a.port : 0)
      })
    })

  const writeAll = (s: net.Socket, total: number, chunk: Uint8Array, done: () => void) => {
    let sent = 0
    const loop = () => {
      while (sent < total) {
        sent += chunk.length
        if (!s.write(chunk)) {
          s.once("drain", loop)
          return
        }
      }
      done()
    }
    loop()
  }

  const bulk = (port: number, total: number, chunk: Uint8Array): Promise<number> =>
    new Promise((resolve, reject) => {
      const s = mod.connect({ host: HOST, port, allowHalfOpen: true })
      const answer: Array<Uint8Array> = []
      s.once("error", reject)
      s.once("connect", () => writeAll(s, total, chunk, () => s.end()))
      s.on("data", (c: Uint8Array) => answer.push(c))
      s.on("end", () => {
        s.destroy()
        resolve(readCount(Buffer.concat(answer)))
      })
    })

  const echo = (port: number, total: number, chunk: Uint8Array): Promise<number> =>
    new Promise((resolve, reject) => {
      const s = mod.connect({ host: HOST, port })
      let received = 0
      s.once("error", reject)
      s.once("connect", () => writeAll(s, total, chunk, () => s.end()))
      s.on("data", (c: Uint8Array) => {
        received += c.length
      })
      s.on("close", () => resolve(received))
    })

  const pingpong = (port: number, conns: number, deadline: number): Promise<PingPongResult> => {
    const latencies: Array<number> = []
    const one = () =>
      new Promise<void>((resolve, reject) => {
        const s = mod.connect({ host: HOST, port })
        s.setNoDelay(true)
        let got = 0
        let t0 = 0
        s.once("error", reject)
        s.once("connect", () => {
          t0 = performance.now()
          s.write(MESSAGE)
        })
        s.on("data", (c: Uint8Array) => {
          got += c.length
          if (got < MESSAGE.length) return
          got -= MESSAGE.length
          latencies.push(micros(t0))
          if (performance.now() < deadline) {
            t0 = performance.now()
            s.write(MESSAGE)
          } else s.end()
        })
        s.on("close", () => resolve())
      })
    const all: Array<Promise<void>> = []
    for (let i = 0; i < conns; i++) all.push(one())
    return Promise.all(all).then(() => ({ requests: latencies.length, latencies }))
  }

  const churn = (port: number, concurrency: number, deadline: number): Promise<number> => {
    let count = 0
    const loop = () =>
      new Promise<void>((resolve, reject) => {
        const next = () => {
          if (performance.now() >= deadline) return resolve()
          const s = mod.connect({ host: HOST, port })
          s.once("error", reject)
          s.once("connect", () => s.write(ONE))
          s.once("data", () => s.end())
          s.once("close", () => {
            count++
            next()
          })
        }
        next()
      })
    const all: Array<Promise<void>> = []
    for (let i = 0; i < concurrency; i++) all.push(loop())
    return Promise.all(all).then(() => count)
  }

  return { server, bulk, echo, pingpong, churn }
}

/**
 * `node:tls` as a `net`-like module: servers with the run's key and
 * certificate, clients trusting its authority. The peer's code is the same
 * (a client writes once TCP is connected; node:tls holds the bytes until the
 * handshake is done), so the TLS figures are node:tls over node:net.
 */
export const tlsModule = (m: TlsMaterial): NetLike => {
  const createServer = (
    a?: net.ServerOpts | ((socket: net.Socket) => void),
    b?: (socket: net.Socket) => void
  ) => {
    const options = typeof a === "function" ? {} : a ?? {}
    const listener = typeof a === "function" ? a : b
    return tls.createServer({ ...options, key: m.key, cert: m.cert }, listener)
  }
  const connect = (options: net.TcpNetConnectOpts) => tls.connect({ ...options, ca: m.ca, servername: "localhost" })
  return {
    createServer: createServer as unknown as typeof net.createServer,
    connect: connect as unknown as typeof net.connect
  }
}

/**
 * Opens `n` idle connections (at most `parallel` connecting at once), checks
 * each with a one-byte round trip, and returns the open sockets.
 */
export const openIdle = (mod: NetLike, port: number, n: number, parallel: number): Promise<Array<net.Socket>> =>
  new Promise((resolve, reject) => {
    const sockets: Array<net.Socket> = []
    let started = 0
    let ready = 0
    const start = () => {
      if (started >= n) return
      started++
      const s = mod.connect({ host: HOST, port })
      sockets.push(s)
      s.once("error", reject)
      s.once("connect", () => s.write(ONE))
      s.once("data", () => {
        ready++
        if (ready === n) resolve(sockets)
        else start()
      })
    }
    for (let i = 0; i < Math.min(parallel, n); i++) start()
  })
