/**
 * Scenarios: `server.listen(handle)` — another server (`listen(server)`,
 * `listen({ handle: server._handle })`), a socket, a server not listening.
 * Node takes a listening TCP server's handle over: its connections go to the
 * new server, and closing either server stops the listener.
 */
import type { AddressInfo, Server } from "node:net"
import { listen, once, scenario, serverEvents, socketEvents } from "../harness.ts"
import type { NetLike, Recorder, Scenario } from "../harness.ts"

const serverProps = ["listening", "_connections"] as const

const closeServer = (server: Server) => new Promise<unknown>((resolve) => server.close(resolve))

const connections = (server: Server) =>
  new Promise<unknown>((resolve) => server.getConnections((error, count) => resolve([error, count])))

const sameAddress = (a: Server, b: Server) => {
  const x = a.address() as AddressInfo | null
  const y = b.address() as AddressInfo | null
  return x !== null && y !== null && x.address === y.address && x.port === y.port && x.family === y.family
}

/** One connection to `port` that the server ends: resolves once it closed. */
const roundTrip = async (net: NetLike, rec: Recorder, actor: string, port: number) => {
  const client = rec.watch(actor, net.connect(port, "127.0.0.1"), socketEvents)
  client.resume()
  await once(client, "close")
}

const takeOver = (how: "listen(server)" | "listen({ handle: server._handle })") =>
  scenario(`${how}: the second server takes the listener over; closing either stops it`, async (net, rec) => {
    const first = rec.watch("first", net.createServer((s) => s.end("first")), serverEvents)
    const port = await listen(first)
    const second = rec.watch("second", net.createServer((s) => s.end("second")), serverEvents)
    const handle = (first as unknown as { _handle: unknown })._handle
    const returned = how === "listen(server)"
      ? second.listen(first, () => rec.log("second", "callback"))
      : second.listen({ handle } as never, () => rec.log("second", "callback"))
    rec.log("second", "listen returns this", returned === second)
    rec.props("second", "right after listen()", second, serverProps)
    await once(second, "listening")
    rec.log("second", "same address as first", sameAddress(first, second))
    await roundTrip(net, rec, "client 1", port)
    await roundTrip(net, rec, "client 2", port)
    rec.props("first", "after two connections", first, serverProps)
    rec.props("second", "after two connections", second, serverProps)
    rec.log("first", "getConnections", await connections(first))
    rec.log("second", "close callback", await closeServer(second))
    rec.props("first", "second closed", first, serverProps)
    rec.props("second", "closed", second, serverProps)
    const refused = rec.watch("client 3", net.connect(port, "127.0.0.1"), socketEvents)
    await once(refused, "close")
    rec.log("first", "close callback", await closeServer(first))
    rec.props("first", "closed", first, serverProps)
  })

export const handleScenarios: ReadonlyArray<Scenario> = [
  takeOver("listen(server)"),
  takeOver("listen({ handle: server._handle })"),
  scenario("listen(server): the new owner's allowHalfOpen applies to what it accepts", async (net, rec) => {
    const first = rec.track(net.createServer())
    const port = await listen(first)
    const second = rec.watch(
      "second",
      net.createServer({ allowHalfOpen: true }, (s) => {
        rec.log("accepted", "allowHalfOpen", s.allowHalfOpen)
        s.on("end", () => {
          rec.log("accepted", "end")
          s.end("after the client's end")
        })
        s.resume()
      }),
      serverEvents
    )
    second.listen(first)
    await once(second, "listening")
    const client = rec.watch("client", net.connect({ port, host: "127.0.0.1", allowHalfOpen: true }), socketEvents)
    client.end("half")
    client.resume()
    await once(client, "close")
    await closeServer(second)
    await closeServer(first)
  }),
  scenario(
    "listen(server) whose listener the first server closed, then listen(first) after close",
    async (net, rec) => {
      const first = rec.watch("first", net.createServer(), serverEvents)
      const port = await listen(first)
      const second = rec.watch("second", net.createServer(), serverEvents)
      second.listen(first)
      await once(second, "listening")
      rec.log("first", "close callback", await closeServer(first))
      rec.props("second", "first closed", second, serverProps)
      const refused = rec.watch("client", net.connect(port, "127.0.0.1"), socketEvents)
      await once(refused, "close")
      rec.log("second", "close callback", await closeServer(second))
      const third = rec.watch("third", net.createServer(), serverEvents)
      try {
        third.listen(first)
        rec.log("third", "listen returned")
      } catch (error) {
        rec.log("third", "listen threw", (error as NodeJS.ErrnoException).code)
      }
      rec.props("third", "after listen", third, serverProps)
    }
  ),
  scenario(
    "listen(connected socket) emits listen EINVAL; a socket or server without a handle throws",
    async (net, rec) => {
      const origin = rec.track(net.createServer((s) => s.resume()))
      const port = await listen(origin)
      const socket = rec.track(net.connect(port, "127.0.0.1"))
      await once(socket, "connect")
      const server = rec.watch("server", net.createServer(), serverEvents)
      rec.log(
        "server",
        "listen returns this",
        server.listen(socket as never, () => rec.log("server", "callback")) === server
      )
      rec.props("server", "right after listen()", server, serverProps)
      await once(server, "error")
      rec.props("server", "after the error", server, serverProps)
      rec.log("server", "close callback", await closeServer(server))
      for (
        const [label, handle] of [["new Socket()", new net.Socket()], ["new Server()", net.createServer()]] as const
      ) {
        const other = rec.watch(label, net.createServer(), serverEvents)
        try {
          other.listen(handle as never)
          rec.log(label, "listen returned")
        } catch (error) {
          rec.log(label, "listen threw", (error as NodeJS.ErrnoException).code, (error as Error).name)
        }
      }
      socket.destroy()
      await closeServer(origin)
    }
  ),
  scenario("listen(server on a path) emits listen EEXIST", async (net, rec) => {
    const first = rec.watch("first", net.createServer(), serverEvents)
    first.listen(rec.path("h.sock"))
    await once(first, "listening")
    const second = rec.watch("second", net.createServer(), serverEvents)
    second.listen(first)
    rec.props("second", "right after listen()", second, serverProps)
    await once(second, "error")
    rec.props("second", "after the error", second, serverProps)
    await closeServer(first)
  }, ["ipc"])
]
