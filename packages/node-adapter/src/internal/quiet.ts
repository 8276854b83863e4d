/**
 * Keeps the driver's own `node:net` objects out of Node's
 * `diagnostics_channel` channels.
 *
 * The driver listens through a `net.Server` (and, on the `net.Socket` driver
 * and in a few probes, connects through `net.Socket`s), and `lib/net.js`
 * publishes those on `net.server.listen`, `net.server.socket` and
 * `net.client.socket`. A face over the driver (compat) publishes its own
 * servers and sockets there, as node:net does: the driver's inner ones would
 * be a second, foreign event for the same listen or connection. node:net
 * publishes unconditionally whenever a channel has subscribers, so the only
 * way to keep them out is to filter: each of those channels (one object per
 * name, shared with `lib/net.js`) gets an own `publish` that drops a message
 * about an object marked here and hands every other one to the channel's
 * own `publish` (whichever its prototype is: Node swaps it as subscribers
 * come and go). Installed at the first mark, so that a program that never
 * listens or connects through the driver is not touched.
 *
 * @internal
 */
const inner = new WeakSet<object>()

const names = [
  "net.client.socket",
  "net.server.socket",
  "tracing:net.server.listen:start",
  "tracing:net.server.listen:end",
  "tracing:net.server.listen:asyncStart",
  "tracing:net.server.listen:asyncEnd",
  "tracing:net.server.listen:error"
]

interface Message {
  readonly server?: unknown
  readonly socket?: { readonly server?: unknown } | null
}

const isInner = (message: unknown): boolean => {
  if (typeof message !== "object" || message === null) return false
  const m = message as Message
  return (typeof m.server === "object" && m.server !== null && inner.has(m.server))
    || (typeof m.socket === "object" && m.socket !== null
      && (inner.has(m.socket)
        || (typeof m.socket.server === "object" && m.socket.server !== null && inner.has(m.socket.server))))
}

let installed = false

const install = (): void => {
  installed = true
  const dc = process.getBuiltinModule("node:diagnostics_channel")
  for (const name of names) {
    const channel = dc.channel(name)
    Object.defineProperty(channel, "publish", {
      configurable: true,
      writable: true,
      value(this: typeof channel, message: unknown): void {
        if (isInner(message)) return
        ;(Object.getPrototypeOf(this) as typeof channel).publish.call(this, message)
      }
    })
  }
}

/** Marks a `net.Server` or `net.Socket` of the driver's own: it is not published (nor what a server accepts). */
export const quiet = <T extends object>(x: T): T => {
  if (!installed) install()
  inner.add(x)
  return x
}
