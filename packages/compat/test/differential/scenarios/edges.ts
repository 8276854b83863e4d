/**
 * Scenarios: edges — repeated calls, use after destroy, odd listen and
 * connect arguments.
 */
import type { AddressInfo, Socket } from "node:net"
import { accept, listen, once, scenario, serverEvents, socketEvents, socketProps } from "../harness.ts"
import type { Scenario } from "../harness.ts"

export const edgeScenarios: ReadonlyArray<Scenario> = [
  scenario("write on a socket that never connected: ERR_SOCKET_CLOSED", async (net, rec) => {
    const socket = rec.watch("client", new net.Socket(), socketEvents)
    rec.log("client", "write returned", socket.write("x", (err) => rec.log("client", "callback", err)))
    rec.props("client", "after write", socket, socketProps)
    await once(socket, "close")
    rec.log("client", "address()", socket.address())
  }),
  scenario("end on a socket that never connected waits for 'connect'", async (net, rec) => {
    const socket = rec.watch("client", new net.Socket(), socketEvents)
    socket.end(() => rec.log("client", "end callback"))
    await rec.ticks(5)
    rec.props("client", "after end", socket, socketProps)
    socket.destroy()
    await once(socket, "close")
  }),
  scenario("getConnections and address on a server that never listened", async (net, rec) => {
    const server = rec.watch("server", net.createServer(), serverEvents)
    await new Promise<void>((resolve) =>
      server.getConnections((err, n) => {
        rec.log("server", "getConnections", err, n)
        resolve()
      })
    )
    rec.log("server", "address", server.address())
  }),
  scenario("close while listen still resolves its host: the listen is abandoned", async (net, rec) => {
    const server = rec.watch("server", net.createServer(), serverEvents)
    server.listen(0, "localhost")
    server.close((err) => rec.log("server", "close callback", err))
    await once(server, "close")
    await rec.ticks(20)
    rec.props("server", "after", server, ["listening"])
    rec.log("server", "address", server.address())
  }, ["dns"]),
  scenario("address() after destroy", async (net, rec) => {
    const server = rec.track(net.createServer())
    const port = await listen(server)
    const socket = rec.watch("client", net.connect(port, "127.0.0.1"), socketEvents)
    await once(socket, "connect")
    socket.destroy()
    rec.log("client", "address() after destroy", socket.address())
    await once(socket, "close")
    rec.props("client", "closed", socket, [...socketProps, "localPort"])
  }),
  scenario("write after destroy: ERR_STREAM_DESTROYED in the callback", async (net, rec) => {
    const server = rec.track(net.createServer())
    const port = await listen(server)
    const client = rec.watch("client", net.connect(port, "127.0.0.1"), socketEvents)
    await once(client, "connect")
    client.destroy()
    rec.log("client", "write returned", client.write("x", (err) => rec.log("client", "callback", err)))
    await once(client, "close")
    await rec.ticks(2)
  }),
  scenario("end twice and destroy twice", async (net, rec) => {
    const server = rec.track(net.createServer((s) => s.resume()))
    const port = await listen(server)
    const client = rec.watch("client", net.connect(port, "127.0.0.1"), socketEvents)
    await once(client, "connect")
    client.end()
    client.end(() => rec.log("client", "second end callback"))
    await once(client, "finish")
    client.destroy()
    client.destroy(new Error("ignored"))
    await once(client, "close")
    await rec.ticks(2)
  }),
  scenario("server.close twice: the second callback gets ERR_SERVER_NOT_RUNNING", async (net, rec) => {
    const server = rec.watch("server", net.createServer(), serverEvents)
    await listen(server)
    server.close((err) => rec.log("server", "first callback", err))
    server.close((err) => rec.log("server", "second callback", err))
    await once(server, "close")
    await rec.ticks(2)
  }),
  scenario("getConnections after connections close", async (net, rec) => {
    const server = rec.watch("server", net.createServer(), serverEvents)
    const port = await listen(server)
    const accepted = accept(server)
    const client = rec.track(net.connect(port, "127.0.0.1"))
    const peer = await accepted
    const count = () => new Promise<unknown>((r) => server.getConnections((_e, n) => r(n)))
    rec.log("server", "open", await count())
    client.destroy()
    await once(peer, "close")
    rec.log("server", "after close", await count())
    server.close()
    await once(server, "close")
  }),
  scenario("maxConnections = 0 drops everything", async (net, rec) => {
    const server = rec.watch("server", net.createServer(), serverEvents)
    server.maxConnections = 0
    const port = await listen(server)
    const client = rec.watch("client", net.connect(port, "127.0.0.1"), socketEvents)
    await once(server, "drop")
    await once(client, "close")
    server.close()
    await once(server, "close")
  }),
  scenario("listen(port, backlog, callback) and listen(port, host, backlog)", async (net, rec) => {
    const a = rec.watch("a", net.createServer(), serverEvents)
    a.listen(0, 5, () => rec.log("a", "callback"))
    await once(a, "listening")
    rec.log("a", "family", (a.address() as AddressInfo).family)
    const b = rec.watch("b", net.createServer(), serverEvents)
    b.listen(0, "127.0.0.1", 5)
    await once(b, "listening")
    a.close()
    b.close()
    await Promise.all([once(a, "close"), once(b, "close")])
  }),
  scenario("connect(port, host) with a string port and a path-like number string", async (net, rec) => {
    const server = rec.track(net.createServer((s) => s.end()))
    const port = await listen(server)
    const socket = rec.watch("client", net.connect(String(port) as unknown as number, "127.0.0.1"), socketEvents)
    await once(socket, "close")
  }),
  scenario("the peer's remote and local ports mirror the client's", async (net, rec) => {
    const server = rec.track(net.createServer())
    const port = await listen(server)
    const accepted = accept(server)
    const client = rec.track(net.connect(port, "127.0.0.1"))
    const peer: Socket = await accepted
    await once(client, "connect")
    rec.log("pair", "mirror", client.localPort === peer.remotePort, client.remotePort === peer.localPort)
    rec.props("peer", "accepted", peer, socketProps)
    rec.log("peer", "address()", peer.address())
    client.destroy()
    await once(peer, "close")
  }),
  scenario("pause before connect; data waits until resume", async (net, rec) => {
    const server = rec.track(net.createServer((s) => s.end("early data")))
    const port = await listen(server)
    const client = rec.watch("client", net.connect(port, "127.0.0.1"), socketEvents)
    client.pause()
    await once(client, "connect")
    await rec.ticks(10)
    rec.log("client", "readableLength > 0", client.readableLength > 0)
    client.resume()
    await once(client, "close")
  }),
  scenario("setEncoding('hex') and 'end' with no data", async (net, rec) => {
    const server = rec.track(net.createServer((s) => s.end(Buffer.from([0, 255]))))
    const port = await listen(server)
    const client = rec.watch("client", net.connect(port, "127.0.0.1"), socketEvents)
    client.setEncoding("hex")
    await once(client, "close")
    const quiet = rec.track(net.createServer((s) => s.end()))
    const p2 = await listen(quiet)
    const c2 = rec.watch("client2", net.connect(p2, "127.0.0.1"), socketEvents)
    await once(c2, "close")
  }),
  scenario("timeout fires while connecting to a name that resolves slowly", async (net, rec) => {
    const socket = net.connect({
      port: 80,
      host: "slow.example",
      lookup: () => {
        // never answers
      }
    })
    rec.watch("client", socket, socketEvents)
    socket.setTimeout(20)
    await once(socket, "timeout")
    rec.props("client", "timed out", socket, socketProps)
    socket.destroy()
    await once(socket, "close")
  })
]
