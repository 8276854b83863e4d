/**
 * What compat publishes to observers, as `lib/net.js` does, with compat's own
 * objects: `diagnostics_channel`'s `net.client.socket` (at every
 * `socket.connect` call, before anything is checked), `net.server.socket`
 * (an accepted socket, after its `'connection'` event) and the tracing
 * channel `net.server.listen` (`asyncStart` when `listen` is called on a
 * server not listening yet, `asyncEnd` once the listener is up and before
 * `'listening'`, `error` when binding or listening fails; a failed host
 * lookup publishes no `error`, as in Node).
 *
 * The channels are Node's own (a channel is one object per name), so a
 * subscriber sees compat's sockets and servers where it would see
 * `node:net`'s. The node driver keeps the `net.Server` it listens through out
 * of them (see `@sluice/node-adapter`'s `internal/quiet.ts`).
 *
 * @internal
 */
import * as dc from "node:diagnostics_channel"

/** `net.client.socket`: `{ socket }`. */
export const clientSocket = dc.channel("net.client.socket")
/** `net.server.socket`: `{ socket }`. */
export const serverSocket = dc.channel("net.server.socket")
/** `net.server.listen`: `{ server, options }` at `asyncStart`, `{ server }` at `asyncEnd`, `{ server, error }`. */
export const serverListen = dc.tracingChannel("net.server.listen")

/** Publishes a failed listen (a bind or listen error, not a lookup's). */
export const listenFailed = (server: object, error: Error): void => {
  if (serverListen.hasSubscribers) serverListen.error.publish({ server, error })
}

/** Publishes a listener that is up, before its `'listening'`. */
export const listenDone = (server: object): void => {
  if (serverListen.hasSubscribers) serverListen.asyncEnd.publish({ server })
}
