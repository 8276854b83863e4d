/**
 * The Node face over a connection the Effect face opened or accepted: a
 * `net.Socket` that drives an Effect-face `Socket`'s engine connection, for
 * Node code that wants a socket (Node's `http` server fed with
 * `server.emit("connection", socket)`, a client library that takes a stream).
 *
 * @since 0.1.0
 */
import type { Driver } from "@sluice/core/Driver"
import type * as CoreSocket from "@sluice/core/Socket"
import { createNet } from "./net.ts"
import type { Net } from "./net.ts"
import { kConnection } from "./Socket.ts"
import type { Socket } from "./Socket.ts"

/**
 * Options of {@link fromSocket}: those a `net.Server` gives the sockets it
 * accepts.
 *
 * @category models
 * @since 0.1.0
 */
export interface AdoptOptions {
  /** The `net.Socket`'s `allowHalfOpen` (default `false`; Node's `http.Server` uses `true`). */
  readonly allowHalfOpen?: boolean | undefined
  /** Readable and writable high-water mark of the stream (default Node's). */
  readonly highWaterMark?: number | undefined
  /** `setNoDelay(true)` at once. */
  readonly noDelay?: boolean | undefined
  /** `setKeepAlive(true, keepAliveInitialDelay)` at once. */
  readonly keepAlive?: boolean | undefined
  /** Milliseconds before the first keep-alive probe, with `keepAlive`. */
  readonly keepAliveInitialDelay?: number | undefined
}

/** One `net` module per driver: the socket class carries the driver (and its timers). */
const nets = new WeakMap<Driver, Net>()

const netOf = (driver: Driver): Net => {
  let net = nets.get(driver)
  if (net === undefined) {
    net = createNet(driver)
    nets.set(driver, net)
  }
  return net
}

/**
 * A `net.Socket` over the connection of an Effect-face socket, as `net.Server`
 * makes one for a connection it accepted: connected, reading as soon as it
 * flows, with the addresses, counters, timeouts and errors of any compat
 * socket.
 *
 * **Details**
 *
 * The `net.Socket` takes the connection over: from now on its events go to
 * the `net.Socket`, so the Effect socket must not have been read from (as a
 * socket `Server.serve` hands to its handler, before `reads` is pulled) and
 * must not be read or written afterwards. The Effect socket's scope still owns
 * the connection: when the `net.Socket` closes first, closing the scope has
 * nothing left to do; when the scope closes first, the connection is closed
 * under the `net.Socket` (it sees no further events), so keep the scope open
 * until the `net.Socket` emits `'close'`.
 *
 * @example
 * ```ts
 * import { fromSocket } from "@sluice/compat"
 * import { Network, Server } from "@sluice/core"
 * import { Effect } from "effect"
 * import * as http from "node:http"
 *
 * // Node's http server fed with the connections of an Effect-face server
 * const httpServer = http.createServer((req, res) => res.end("hello"))
 * const program = Effect.gen(function*() {
 *   const server = yield* Network.listen({ host: "127.0.0.1", port: 8080 })
 *   yield* Server.serve(server, (socket) =>
 *     Effect.callback<void>((resume) => {
 *       const nodeSocket = fromSocket(socket, { allowHalfOpen: true, noDelay: true })
 *       nodeSocket.once("close", () => resume(Effect.void))
 *       httpServer.emit("connection", nodeSocket)
 *     }))
 * })
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const fromSocket = (socket: CoreSocket.Socket, options?: AdoptOptions): Socket => {
  const net = netOf(socket.connection.driver)
  const adopted = new net.Socket({
    [kConnection]: socket.connection,
    allowHalfOpen: options?.allowHalfOpen ?? false,
    readable: true,
    writable: true,
    ...(options?.highWaterMark === undefined
      ? {}
      : { readableHighWaterMark: options.highWaterMark, writableHighWaterMark: options.highWaterMark })
  })
  if (options?.noDelay === true) adopted.setNoDelay(true)
  if (options?.keepAlive === true) adopted.setKeepAlive(true, options.keepAliveInitialDelay ?? 0)
  return adopted
}
