/**
 * Scenarios: the shape of connect errors — a connect from a bound local
 * port names it (` - Local (address:port)`, `localAddress`, `localPort`), a
 * bind that fails is a `bind` error with no attempt, an address family a
 * lookup makes up carries the host and port asked for.
 */
import * as NodeNet from "node:net"
import { once, scenario, socketEvents } from "../harness.ts"
import type { Scenario } from "../harness.ts"

/** A loopback port nobody listens on now (bound, then released). */
const freePort = async (): Promise<number> => {
  const probe = NodeNet.createServer()
  probe.listen(0, "127.0.0.1")
  await once(probe, "listening")
  const port = (probe.address() as NodeNet.AddressInfo).port
  probe.close()
  await once(probe, "close")
  return port
}

export const errorScenarios: ReadonlyArray<Scenario> = [
  scenario("connect from a bound local port: the error names it (' - Local', localAddress, localPort)", async (
    net,
    rec
  ) => {
    const localPort = await freePort()
    const socket = rec.watch(
      "client",
      net.connect({ port: 9, host: "127.0.0.1", localAddress: "127.0.0.1", localPort }),
      socketEvents
    )
    await once(socket, "close")
    const bare = rec.watch("bare", net.connect({ port: 9, host: "127.0.0.1", localAddress: "127.0.0.1" }), socketEvents)
    await once(bare, "close")
  }),
  scenario("connect from a bound local port without a local address: the error names 0.0.0.0", async (net, rec) => {
    const localPort = await freePort()
    const socket = rec.watch("client", net.connect({ port: 9, host: "127.0.0.1", localPort }), socketEvents)
    await once(socket, "close")
  }),
  scenario("a bind that fails is 'bind' EADDRINUSE naming the local end, with no attempt events", async (net, rec) => {
    const taken = rec.track(net.createServer())
    taken.listen(0, "127.0.0.1")
    await once(taken, "listening")
    const localPort = (taken.address() as NodeNet.AddressInfo).port
    const socket = rec.watch("client", new net.Socket(), socketEvents)
    socket.connect({ port: 9, host: "127.0.0.1", localAddress: "127.0.0.1", localPort })
    rec.props("client", "connecting", socket, ["connecting", "destroyed"])
    await once(socket, "close")
    taken.close()
  }),
  scenario("a local address this host lacks: 'bind' EADDRNOTAVAIL, no attempt events", async (net, rec) => {
    const socket = rec.watch(
      "client",
      net.connect({ port: 9, host: "127.0.0.1", localAddress: "1.2.3.4" }),
      socketEvents
    )
    await once(socket, "close")
  }, ["host"]),
  scenario("ERR_INVALID_ADDRESS_FAMILY carries the host and port asked for", async (net, rec) => {
    for (const port of [9, "9"] as const) {
      const socket = net.connect({
        port: port as number,
        host: "made-up.test",
        lookup: (_host, _options, callback) =>
          (callback as (e: null, a: string, f: number) => void)(null, "127.0.0.1", 5),
        autoSelectFamily: false
      })
      rec.watch("client", socket, socketEvents)
      const [error] = (await once(socket, "error")) as [Error & { host?: unknown; port?: unknown }]
      rec.log("client", "host and port", error.host, error.port, typeof error.port)
      if (!socket.closed) await once(socket, "close")
    }
  })
]
