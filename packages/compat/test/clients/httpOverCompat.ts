/**
 * Node's own `http` over compat sockets, for the http and ws tests.
 *
 * Server side: an `http.Server` that never listens itself; a compat `net.Server`
 * accepts the connections and hands each to it with `emit("connection", socket)`.
 * Client side: an `http.Agent` whose `createConnection` is compat's.
 *
 * @since 0.1.0
 */
import { createConnection, createServer, type Socket } from "@sluice/compat"
import type { SocketConnectOpts, SocketConstructorOpts } from "@sluice/compat/Socket"
import * as http from "node:http"
import type * as realNet from "node:net"

/**
 * A compat socket.
 *
 * @since 0.1.0
 */
export type CompatSocket = InstanceType<typeof Socket>

/**
 * A running http server fed by a compat `net.Server`.
 *
 * @since 0.1.0
 */
export interface CompatHttpServer {
  readonly port: number
  readonly http: http.Server
  /** Every connection the compat server accepted, in order. */
  readonly accepted: ReadonlyArray<CompatSocket>
  /** Stops accepting, waits until every accepted connection has closed. */
  readonly close: () => Promise<void>
}

/**
 * Starts an `http.Server` on a compat listener at `127.0.0.1:0`.
 *
 * @since 0.1.0
 */
export const listenHttp = async (handler: http.RequestListener): Promise<CompatHttpServer> => {
  const httpServer = http.createServer(handler)
  const accepted: Array<CompatSocket> = []
  const closed: Array<Promise<void>> = []
  const server = createServer((socket) => {
    accepted.push(socket)
    closed.push(new Promise((resolve) => socket.once("close", () => resolve())))
    httpServer.emit("connection", socket)
  })
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => resolve())
  })
  const address = server.address()
  if (address === null || typeof address === "string") throw new Error(`unexpected address ${String(address)}`)
  return {
    port: address.port,
    http: httpServer,
    accepted,
    close: async () => {
      const stopped = new Promise<void>((resolve, reject) =>
        server.close((error) => (error === undefined ? resolve() : reject(error)))
      )
      // idle keep-alive connections end when their client goes; those left are ended here
      for (const socket of accepted) if (!socket.destroyed) socket.end()
      await Promise.all(closed)
      await stopped
    }
  }
}

/**
 * An `http.Agent` whose connections are compat sockets (recorded in `created`).
 *
 * @since 0.1.0
 */
export const compatAgent = (options: http.AgentOptions = {}): { agent: http.Agent; created: Array<CompatSocket> } => {
  const created: Array<CompatSocket> = []
  const agent = new http.Agent(options)
  // the agent itself hands a returned socket to its request: no callback needed
  agent.createConnection = (connectOptions) => {
    const socket = createConnection(connectOptions as SocketConnectOpts & SocketConstructorOpts)
    created.push(socket)
    // compat's Socket is typed as node:net's (its typings are assignable to @types/node's)
    return socket as unknown as realNet.Socket
  }
  return { agent, created }
}
