/**
 * Scenarios: `listen` on a host name and the connection key — the name is
 * looked up with `dns.lookup` for every address, the first address that is
 * not IPv6 link-local is listened on, the lookup's own error is emitted as it
 * is, and `_connectionKey` names the port asked for.
 */
import dns from "node:dns"
import type { AddressInfo } from "node:net"
import { once, scenario, serverEvents } from "../harness.ts"
import type { Recorder, Scenario } from "../harness.ts"

type Callback = (err: Error | null, addresses?: Array<{ address: string; family: number }>) => void

/**
 * Runs `f` with `dns.lookup` answering the `.test` names itself (as code that
 * replaces `dns.lookup` does); other names go to the real one.
 */
const withLookup = async (rec: Recorder, f: () => Promise<void>): Promise<void> => {
  const original = dns.lookup
  const fake = (hostname: string, options: unknown, callback: Callback) => {
    if (typeof hostname !== "string" || !hostname.endsWith(".test")) {
      return (original as (...a: Array<unknown>) => unknown)(hostname, options, callback)
    }
    rec.log("dns", "lookup", hostname, (options as { all?: boolean }).all)
    if (hostname === "link-local-first.test") {
      process.nextTick(callback, null, [{ address: "fe80::1", family: 6 }, { address: "127.0.0.1", family: 4 }])
    } else if (hostname === "link-local-only.test") {
      process.nextTick(callback, null, [{ address: "fe80::1", family: 6 }])
    } else {process.nextTick(
        callback,
        Object.assign(new Error("the resolver broke"), { code: "ESERVFAIL", resolver: "x" })
      )}
  }
  ;(dns as unknown as { lookup: unknown }).lookup = fake
  try {
    await f()
  } finally {
    ;(dns as unknown as { lookup: unknown }).lookup = original
  }
}

const key = (server: unknown): unknown => (server as { _connectionKey?: unknown })._connectionKey

export const listenScenarios: ReadonlyArray<Scenario> = [
  scenario(
    "listen(host) listens on the first address that is not IPv6 link-local",
    (net, rec) =>
      withLookup(rec, async () => {
        const server = rec.watch("server", net.createServer(), serverEvents)
        server.listen(0, "link-local-first.test")
        rec.props("server", "looking up", server, ["listening"])
        await once(server, "listening")
        const a = server.address() as AddressInfo
        rec.log("server", "address", a.address, a.family, key(server))
        server.close()
        await once(server, "close")
      }),
    ["dns"]
  ),
  scenario("listen(host) emits the lookup's own error, unchanged", (net, rec) =>
    withLookup(rec, async () => {
      const server = rec.watch("server", net.createServer(), serverEvents)
      server.listen({ port: 0, host: "broken.test" })
      const [error] = await once(server, "error")
      rec.log("server", "resolver property kept", (error as { resolver?: unknown }).resolver)
      rec.props("server", "after", server, ["listening"])
    }), ["dns"]),
  scenario(
    "listen(host) on a name with only an IPv6 link-local address takes it",
    (net, rec) =>
      withLookup(rec, async () => {
        const server = rec.watch("server", net.createServer(), serverEvents)
        server.listen(0, "link-local-only.test")
        await Promise.race([once(server, "listening"), once(server, "error")])
        server.close()
        await rec.ticks(3)
      }),
    ["dns"]
  ),
  scenario("_connectionKey names the address family, the address and the port asked for", async (net, rec) => {
    for (const host of ["127.0.0.1", "::1"]) {
      const server = rec.watch("server", net.createServer(), serverEvents)
      server.listen(0, host)
      await once(server, "listening")
      rec.log("server", "key", key(server))
      server.close()
      await once(server, "close")
    }
    const ipc = rec.watch("ipc", net.createServer(), serverEvents)
    ipc.listen(rec.path("key.sock"))
    await once(ipc, "listening")
    rec.log("ipc", "key", key(ipc))
    ipc.close()
    await once(ipc, "close")
  })
]
