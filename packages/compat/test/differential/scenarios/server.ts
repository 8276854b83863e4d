/**
 * Scenarios: `net.Server` — listen in every form, address, close, connection
 * counting, maxConnections and 'drop', pauseOnConnect, errors.
 */
import type { AddressInfo, Server, Socket } from "node:net"
import { accept, listen, once, scenario, serverEvents, socketEvents, socketProps } from "../harness.ts"
import type { Scenario } from "../harness.ts"

const serverProps = ["listening", "maxConnections", "allowHalfOpen", "pauseOnConnect", "noDelay", "keepAlive"] as const

const closeServer = (server: Server) => new Promise<unknown>((resolve) => server.close(resolve))

const addressShape = (server: Server) => {
  const a = server.address()
  if (a === null || typeof a === "string") return a
  return { address: a.address, family: a.family, port: a.port }
}

export const serverScenarios: ReadonlyArray<Scenario> = [
  scenario("listen(0) without a host: sync address, 'listening' on the next tick", async (net, rec) => {
    const server = rec.watch("server", net.createServer(), serverEvents)
    rec.props("server", "new", server, serverProps)
    rec.log("server", "address() before listen", server.address())
    rec.log("server", "listen returns this", server.listen(0) === server)
    rec.props("server", "after listen()", server, serverProps)
    rec.log("server", "address family", (server.address() as AddressInfo | null)?.family)
    await once(server, "listening")
    rec.log("server", "close callback", await closeServer(server))
    rec.props("server", "closed", server, serverProps)
    rec.log("server", "address() after close", server.address())
  }),
  scenario("listen(port, host, callback)", async (net, rec) => {
    const server = rec.watch("server", net.createServer(), serverEvents)
    server.listen(0, "127.0.0.1", () => rec.log("server", "callback"))
    rec.log("server", "listening right after listen()", server.listening)
    await once(server, "listening")
    rec.log("server", "address()", addressShape(server))
    await closeServer(server)
  }),
  scenario("listen(port, host, backlog, callback)", async (net, rec) => {
    const server = rec.watch("server", net.createServer(), serverEvents)
    server.listen(0, "127.0.0.1", 10, () => rec.log("server", "callback"))
    await once(server, "listening")
    rec.log("server", "address()", addressShape(server))
    await closeServer(server)
  }),
  scenario("listen(options, callback) with host and port", async (net, rec) => {
    const server = rec.watch("server", net.createServer(), serverEvents)
    server.listen({ host: "127.0.0.1", port: 0, exclusive: true }, () => rec.log("server", "callback"))
    await once(server, "listening")
    rec.log("server", "address()", addressShape(server))
    await closeServer(server)
  }),
  scenario("listen(callback) and listen({ port: undefined })", async (net, rec) => {
    const a = rec.watch("a", net.createServer(), serverEvents)
    a.listen(() => rec.log("a", "callback"))
    await once(a, "listening")
    const b = rec.watch("b", net.createServer(), serverEvents)
    b.listen({ port: undefined, host: "127.0.0.1" })
    await once(b, "listening")
    rec.log("b", "address()", addressShape(b))
    await Promise.all([closeServer(a), closeServer(b)])
  }),
  scenario("listen on ::1", async (net, rec) => {
    const server = rec.watch("server", net.createServer(), serverEvents)
    server.listen(0, "::1")
    await once(server, "listening")
    rec.log("server", "address()", addressShape(server))
    const socket = rec.watch("client", net.connect((server.address() as AddressInfo).port, "::1"), socketEvents)
    await once(socket, "connect")
    rec.props("client", "connected", socket, socketProps)
    socket.destroy()
    await once(socket, "close")
    await closeServer(server)
  }),
  scenario("listen(path) on a unix socket; address() is the path, even after close", async (net, rec) => {
    const server = rec.watch("server", net.createServer(), serverEvents)
    server.listen(rec.path("s.sock"))
    await once(server, "listening")
    rec.log("server", "address()", server.address())
    await closeServer(server)
    rec.log("server", "address() after close", server.address())
  }, ["ipc"]),
  scenario("listen on a path in use: EADDRINUSE with port -1", async (net, rec) => {
    const p = rec.path("busy.sock")
    const first = rec.track(net.createServer())
    first.listen(p)
    await once(first, "listening")
    const second = rec.watch("second", net.createServer(), serverEvents)
    second.listen(p)
    await once(second, "error")
    rec.props("second", "after error", second, serverProps)
    await closeServer(first)
  }, ["ipc"]),
  scenario("listen on a port in use: EADDRINUSE", async (net, rec) => {
    const first = rec.track(net.createServer())
    const port = await listen(first)
    const second = rec.watch("second", net.createServer(), serverEvents)
    second.listen(port, "127.0.0.1")
    await once(second, "error")
    rec.props("second", "after error", second, serverProps)
    rec.log("second", "address()", second.address())
    await closeServer(first)
  }),
  scenario("listen twice: ERR_SERVER_ALREADY_LISTEN", async (net, rec) => {
    const server = rec.watch("server", net.createServer(), serverEvents)
    server.listen(0, "127.0.0.1")
    rec.attempt("server", "listen again", () => server.listen(0))
    await once(server, "listening")
    await closeServer(server)
  }),
  scenario(
    "close when not running: ERR_SERVER_NOT_RUNNING in the callback, 'close' still emitted",
    async (net, rec) => {
      const server = rec.watch("server", net.createServer(), serverEvents)
      rec.log("server", "close returns this", server.close((err) => rec.log("server", "callback", err)) === server)
      await once(server, "close")
    }
  ),
  scenario("listen again after close", async (net, rec) => {
    const server = rec.watch("server", net.createServer(), serverEvents)
    await listen(server)
    await closeServer(server)
    server.listen(0, "127.0.0.1")
    await once(server, "listening")
    rec.props("server", "listening again", server, serverProps)
    await closeServer(server)
  }),
  scenario("'close' waits for open connections", async (net, rec) => {
    const server = rec.watch("server", net.createServer(), serverEvents)
    const port = await listen(server)
    const accepted = accept(server)
    const client = rec.watch("client", net.connect(port, "127.0.0.1"), socketEvents)
    const peer = await accepted
    server.close(() => rec.log("server", "close callback"))
    rec.props("server", "closing", server, serverProps)
    await new Promise<void>((resolve) =>
      server.getConnections((err, n) => {
        rec.log("server", "getConnections", err, n)
        resolve()
      })
    )
    rec.log("server", "step", "ending the connection")
    client.end()
    await once(server, "close")
    rec.props("peer", "closed", peer, ["destroyed"])
  }),
  scenario("getConnections counts accepted sockets, asynchronously", async (net, rec) => {
    const server = rec.watch("server", net.createServer(), serverEvents)
    const port = await listen(server)
    const sockets: Array<Socket> = []
    for (let i = 0; i < 3; i++) {
      const accepted = accept(server)
      sockets.push(rec.track(net.connect(port, "127.0.0.1")))
      await accepted
    }
    let sync = true
    server.getConnections((err, n) => rec.log("server", "getConnections", err, n, sync))
    sync = false
    await rec.ticks(1)
    for (const s of sockets) s.destroy()
    await once(server, "close" as never).catch(() => undefined).then(() => undefined)
  }),
  scenario("maxConnections: extra connections are dropped with 'drop'", async (net, rec) => {
    const server = rec.watch("server", net.createServer(), serverEvents)
    server.maxConnections = 1
    const port = await listen(server)
    const accepted = accept(server)
    const first = rec.watch("first", net.connect(port, "127.0.0.1"), socketEvents)
    await accepted
    const second = rec.watch("second", net.connect(port, "127.0.0.1"), socketEvents)
    const [drop] = await once(server, "drop")
    const d = drop as Record<string, unknown>
    rec.log("server", "drop data", {
      localAddress: d["localAddress"],
      localFamily: d["localFamily"],
      remoteAddress: d["remoteAddress"],
      remoteFamily: d["remoteFamily"],
      keys: Object.keys(d),
      proto: Object.getPrototypeOf(d)
    })
    await once(second, "close")
    first.destroy()
    await once(first, "close")
    await closeServer(server)
  }),
  scenario("pauseOnConnect: no data until resume()", async (net, rec) => {
    const server = rec.watch("server", net.createServer({ pauseOnConnect: true }), serverEvents)
    rec.props("server", "new", server, serverProps)
    const port = await listen(server)
    const accepted = accept(server)
    const client = rec.watch("client", net.connect(port, "127.0.0.1"), socketEvents)
    const peer = rec.watch("peer", await accepted, socketEvents)
    rec.log("peer", "isPaused", peer.isPaused())
    client.write("waiting")
    await rec.ticks(10)
    rec.log("peer", "step", "resume")
    peer.resume()
    await once(peer, "data")
    client.end()
    await Promise.all([once(peer, "close"), once(client, "close")])
    await closeServer(server)
  }),
  scenario("server options: noDelay, keepAlive, highWaterMark, allowHalfOpen", async (net, rec) => {
    const server = rec.track(
      net.createServer({
        noDelay: true,
        keepAlive: true,
        keepAliveInitialDelay: 2500,
        highWaterMark: 1024,
        allowHalfOpen: true
      })
    )
    rec.props("server", "new", server, [...serverProps, "keepAliveInitialDelay", "highWaterMark"])
    const port = await listen(server)
    const accepted = accept(server)
    const client = rec.track(net.connect(port, "127.0.0.1"))
    const peer = await accepted
    rec.props("peer", "accepted", peer, ["readableHighWaterMark", "writableHighWaterMark", "allowHalfOpen"])
    rec.log(
      "peer",
      "server",
      (peer as unknown as { server: unknown }).server === server,
      (peer as unknown as { _server: unknown })._server === server
    )
    client.destroy()
    await once(peer, "close")
    await closeServer(server)
  }),
  scenario("createServer validation errors", async (net, rec) => {
    rec.attempt("server", "createServer(1)", () => net.createServer(1 as never))
    rec.attempt("server", "keepAliveInitialDelay", () => net.createServer({ keepAliveInitialDelay: "x" } as never))
    rec.attempt("server", "highWaterMark", () => net.createServer({ highWaterMark: "x" } as never))
    rec.attempt("server", "blockList", () => net.createServer({ blockList: {} } as never))
  }),
  scenario("listen validation errors", async (net, rec) => {
    const server = rec.track(net.createServer())
    rec.attempt("server", "listen(-1)", () => server.listen(-1))
    rec.attempt("server", "listen(65536)", () => server.listen(65536))
    rec.attempt("server", "listen({})", () => server.listen({}))
    rec.attempt("server", "listen({ port: true })", () => server.listen({ port: true } as never))
    rec.attempt("server", "listen({ host: 'x' })", () => server.listen({ host: "x" }))
    rec.props("server", "after", server, serverProps)
  }),
  scenario("ref and unref return the server", async (net, rec) => {
    const server = rec.track(net.createServer())
    rec.log("server", "before listen", server.unref() === server, server.ref() === server)
    await listen(server)
    rec.log("server", "listening", server.unref() === server, server.ref() === server)
    await closeServer(server)
  }),
  scenario("server[Symbol.asyncDispose] closes", async (net, rec) => {
    const server = rec.watch("server", net.createServer(), serverEvents)
    await listen(server)
    await server[Symbol.asyncDispose]()
    rec.props("server", "disposed", server, serverProps)
    await server[Symbol.asyncDispose]()
    rec.log("server", "second dispose resolved")
  }),
  scenario("listen with an aborted signal closes the server", async (net, rec) => {
    const server = rec.watch("server", net.createServer(), serverEvents)
    const controller = new AbortController()
    server.listen({ port: 0, host: "127.0.0.1", signal: controller.signal })
    await once(server, "listening")
    controller.abort()
    await once(server, "close")
    rec.props("server", "aborted", server, serverProps)
  }),
  scenario("connection listener and 'connection' event both receive the socket", async (net, rec) => {
    const server = rec.watch(
      "server",
      net.createServer((s) => {
        rec.log("server", "listener", s.remoteAddress)
        s.end("hi")
      }),
      serverEvents
    )
    const port = await listen(server)
    const client = rec.watch("client", net.connect(port, "127.0.0.1"), socketEvents)
    await once(client, "close")
    await closeServer(server)
  })
]
