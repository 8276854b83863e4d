/**
 * Scenarios: module-level functions and classes — isIP, the autoSelectFamily
 * defaults, BlockList, SocketAddress, connect-time validation errors.
 */
import type { Server, Socket } from "node:net"
import * as util from "node:util"
import { listen, once, scenario, serverEvents, socketEvents } from "../harness.ts"
import type { Scenario } from "../harness.ts"

const json = (x: unknown): unknown => (x as { toJSON(): unknown } | undefined)?.toJSON()

const ips = [
  "127.0.0.1",
  "::1",
  "fe80::1%eth0",
  "1.2.3",
  "256.0.0.1",
  "::ffff:1.2.3.4",
  "x",
  "",
  "0:0:0:0:0:0:0:0",
  "1:2:3:4:5:6:7:8:9"
]

export const moduleScenarios: ReadonlyArray<Scenario> = [
  scenario("isIP, isIPv4, isIPv6", (net, rec) => {
    for (const ip of [...ips, 1 as unknown as string, undefined as unknown as string]) {
      rec.log("module", "isIP", ip, net.isIP(ip), net.isIPv4(ip), net.isIPv6(ip))
    }
  }),
  scenario("Stream is Socket; module members", (net, rec) => {
    rec.log("module", "Stream === Socket", (net as unknown as { Stream: unknown }).Stream === net.Socket)
    rec.log("module", "socket instanceof Duplex", typeof new net.Socket().pipe === "function")
    rec.log("module", "server is an EventEmitter", typeof net.createServer().on === "function")
  }),
  scenario("Socket and Server called without new, legacy util.inherits and ES subclasses", async (net, rec) => {
    const NetSocket = net.Socket as unknown as (o?: object) => Socket & { legacy?: boolean }
    const plain = NetSocket()
    rec.log("module", "Socket() is a Socket", plain instanceof net.Socket, plain.readyState)
    function Legacy(this: Socket & { legacy: boolean }, options?: object) {
      ;(net.Socket as unknown as { call(self: unknown, o?: object): void }).call(this, options)
      this.legacy = true
    }
    util.inherits(Legacy, net.Socket)
    class Modern extends net.Socket {
      modern = true
    }
    const server = (net.Server as unknown as (l: (s: Socket) => void) => Server)((s) => s.end("hello"))
    rec.track(server)
    rec.log("module", "Server() is a Server", server instanceof net.Server)
    const port = await listen(server)
    const legacy = new (Legacy as unknown as new(o?: object) => Socket & { legacy: boolean })({
      readableHighWaterMark: 7
    })
    rec.log(
      "legacy",
      "state",
      legacy instanceof net.Socket,
      legacy.legacy,
      legacy.readableHighWaterMark,
      legacy.readyState
    )
    rec.watch("legacy", legacy, socketEvents)
    legacy.connect(port, "127.0.0.1")
    await once(legacy, "close")
    const modern = rec.watch("modern", new Modern(), socketEvents)
    rec.log("modern", "state", modern instanceof net.Socket, modern.modern)
    modern.connect(port, "127.0.0.1")
    await once(modern, "close")
  }),
  scenario("autoSelectFamily defaults: get, set, validation", (net, rec) => {
    const family = net.getDefaultAutoSelectFamily()
    const timeout = net.getDefaultAutoSelectFamilyAttemptTimeout()
    rec.log("module", "defaults", family, timeout)
    rec.attempt("module", "set family 'yes'", () => net.setDefaultAutoSelectFamily("yes" as never))
    rec.attempt("module", "set timeout 0", () => net.setDefaultAutoSelectFamilyAttemptTimeout(0))
    rec.attempt("module", "set timeout 1.5", () => net.setDefaultAutoSelectFamilyAttemptTimeout(1.5))
    net.setDefaultAutoSelectFamilyAttemptTimeout(5)
    rec.log("module", "timeout set to 5", net.getDefaultAutoSelectFamilyAttemptTimeout())
    net.setDefaultAutoSelectFamily(false)
    rec.log("module", "family set to false", net.getDefaultAutoSelectFamily())
    net.setDefaultAutoSelectFamily(family)
    net.setDefaultAutoSelectFamilyAttemptTimeout(timeout)
  }),
  scenario("BlockList: rules, check across families, validation", (net, rec) => {
    const b = new net.BlockList()
    b.addAddress("1.2.3.4")
    b.addRange("10.0.0.1", "10.0.0.9")
    b.addSubnet("8592:757c:efae:4e45::", 64, "ipv6")
    b.addSubnet("192.168.0.0", 16)
    b.addAddress(new net.SocketAddress({ address: "::ffff:5.6.7.8", family: "ipv6" }))
    rec.log("blocklist", "rules", b.rules)
    for (
      const [a, f] of [
        ["1.2.3.4", "ipv4"],
        ["::ffff:1.2.3.4", "ipv6"],
        ["10.0.0.5", "ipv4"],
        ["10.0.0.10", "ipv4"],
        ["8592:757c:efae:4e45::1", "ipv6"],
        ["8592:757c:efae:4e46::1", "ipv6"],
        ["192.168.200.1", "ipv4"],
        ["5.6.7.8", "ipv4"],
        ["bogus", "ipv4"]
      ] as const
    ) rec.log("blocklist", "check", a, f, b.check(a, f))
    rec.log("blocklist", "isBlockList", net.BlockList.isBlockList(b), net.BlockList.isBlockList({}))
    rec.attempt("blocklist", "addRange reversed", () => b.addRange("10.0.0.9", "10.0.0.1"))
    rec.attempt("blocklist", "addSubnet prefix 33", () => b.addSubnet("1.0.0.0", 33))
    rec.attempt("blocklist", "addAddress(1)", () => b.addAddress(1 as never))
    rec.attempt("blocklist", "addAddress('x')", () => b.addAddress("x"))
    rec.attempt("blocklist", "check(1)", () => b.check(1 as never))
    rec.log("blocklist", "JSON", JSON.stringify(b))
  }),
  scenario("BlockList: CIDRs, bulk adds, removal, clear, size", (net, rec) => {
    const b = new net.BlockList() as unknown as Record<string, (...args: Array<unknown>) => unknown> & {
      rules: Array<string>
      size: number
    }
    const t = (label: string, f: () => unknown) => rec.attempt("blocklist", label, f)
    t("addCIDR v4", () => b["addCIDR"]!("10.0.0.0/8"))
    t("addCIDR v6", () => b["addCIDR"]!("::1/128"))
    for (
      const bad of ["10.0.0.0", "x/8", "10.0.0.0/33", 5, "10.0.0.0/abc", "10.0.0.0/08", "10.0.0.0/", "10.0.0.0/-1"]
    ) {
      t(`addCIDR ${String(bad)}`, () => b["addCIDR"]!(bad))
    }
    t("addAddresses", () => b["addAddresses"]!(["1.1.1.1", "2.2.2.2", "1.1.1.1"]))
    t("addAddresses not an array", () => b["addAddresses"]!("x"))
    t("addAddresses[0] not a string", () => b["addAddresses"]!([1]))
    t("addCIDRs with a bad entry adds nothing", () => b["addCIDRs"]!(["3.0.0.0/8", 3]))
    t("addCIDRs", () => b["addCIDRs"]!(["3.0.0.0/8", "4.0.0.0/8"]))
    b["addRange"]!("5.0.0.1", "5.0.0.9")
    b["addRange"]!("5.0.0.1", "5.0.0.9")
    rec.log("blocklist", "rules", b.rules, b.size)
    t("removeAddress", () => b["removeAddress"]!("1.1.1.1"))
    t("removeRange (not present)", () => b["removeRange"]!("5.0.0.1", "5.0.0.8"))
    t("removeRange", () => b["removeRange"]!("5.0.0.1", "5.0.0.9"))
    t("removeSubnet", () => b["removeSubnet"]!("10.0.0.0", 8))
    t("removeCIDR", () => b["removeCIDR"]!("::1/128"))
    t("removeSubnet bad prefix", () => b["removeSubnet"]!("10.0.0.0", 40))
    rec.log("blocklist", "after removals", b.rules, b.size, b["check"]!("3.1.2.3"), b["check"]!("1.1.1.1"))
    b["clear"]!()
    rec.log("blocklist", "cleared", b.rules, b.size)
  }),
  scenario("SocketAddress: normalisation, parse, validation", (net, rec) => {
    const a = new net.SocketAddress({ address: "0:0::1", family: "IPv6" as never, port: 80, flowlabel: 7 })
    rec.log("sa", "v6", a.address, a.port, a.family, a.flowlabel, json(a), Object.keys(a))
    const b = new (net.SocketAddress as unknown as new() => object)()
    rec.log("sa", "default", json(b))
    rec.log("sa", "default v6", json(new net.SocketAddress({ family: "ipv6" })))
    for (const input of ["[::1]:8080", "1.2.3.4", "1.2.3.4:99", "x:y", "[::1", "example.com:80"]) {
      rec.log("sa", "parse", input, json(net.SocketAddress.parse(input)))
    }
    const isSA = (net.SocketAddress as unknown as { isSocketAddress(x: unknown): boolean }).isSocketAddress
    rec.log("sa", "isSocketAddress", isSA(a), isSA({}))
    rec.attempt("sa", "bad address", () => new net.SocketAddress({ address: "abc" }))
    rec.attempt("sa", "bad family", () => new net.SocketAddress({ family: "ipv5" as never }))
    rec.attempt("sa", "bad port", () => new net.SocketAddress({ port: 70000 }))
    rec.attempt("sa", "bad flowlabel", () => new net.SocketAddress({ flowlabel: -1 }))
    rec.attempt("sa", "options not an object", () => new net.SocketAddress("1.2.3.4" as never))
  }),
  scenario("server blockList refuses a blocked peer silently", async (net, rec) => {
    const blockList = new net.BlockList()
    blockList.addAddress("127.0.0.1")
    const server = rec.watch("server", net.createServer({ blockList }), serverEvents)
    const port = await listen(server)
    const client = rec.watch("client", net.connect(port, "127.0.0.1"), socketEvents)
    await once(client, "close")
    server.close()
    await once(server, "close")
  }),
  scenario("client blockList: ERR_IP_BLOCKED after 'connectionAttempt'", async (net, rec) => {
    const blockList = new net.BlockList()
    blockList.addAddress("127.0.0.1")
    const socket = new net.Socket({ blockList } as never)
    rec.watch("client", socket, socketEvents)
    socket.connect(9, "127.0.0.1")
    await once(socket, "close")
    rec.attempt("client", "blockList {}", () => new net.Socket({ blockList: {} } as never))
  }),
  scenario("typeOfService: cached before connect, validated", (net, rec) => {
    const s = rec.track(new net.Socket({ typeOfService: 8 } as never)) as unknown as {
      getTypeOfService(): number
      setTypeOfService(n: unknown): unknown
    }
    rec.log("client", "initial", s.getTypeOfService())
    rec.log("client", "set returns this", s.setTypeOfService(16) === s, s.getTypeOfService())
    rec.attempt("client", "set 300", () => s.setTypeOfService(300))
    rec.attempt("client", "set 'x'", () => s.setTypeOfService("x"))
    rec.attempt("client", "set NaN", () => s.setTypeOfService(NaN))
    rec.log("client", "after", s.getTypeOfService())
  }),
  scenario("setKeepAlive object form and extra arguments", async (net, rec) => {
    const server = rec.track(net.createServer())
    const port = await listen(server)
    const socket = rec.watch("client", net.connect(port, "127.0.0.1"), socketEvents)
    const s = socket as unknown as { setKeepAlive(...a: Array<unknown>): unknown }
    rec.log("client", "before connect", s.setKeepAlive({ enable: true, initialDelay: 1000 }) === socket)
    await once(socket, "connect")
    rec.log(
      "client",
      "object",
      s.setKeepAlive({ enable: true, initialDelay: 2000, interval: 1000, count: 3 }) === socket
    )
    rec.log("client", "positional", s.setKeepAlive(true, 1000, 1000, 5) === socket)
    socket.destroy()
    await once(socket, "close")
  }),
  scenario("BoundSocket validation", (net, rec) => {
    const Bound = (net as unknown as { BoundSocket: new(o?: unknown) => unknown }).BoundSocket
    rec.log("module", "exists", typeof Bound)
    rec.attempt("module", "host name", () => new Bound({ host: "localhost" }))
    rec.attempt("module", "bad port", () => new Bound({ port: -1 }))
    rec.attempt("module", "path with port", () => new Bound({ path: "/x", port: 1 }))
    rec.attempt("module", "options not object", () => new Bound(1))
  }),
  scenario("connect validation errors", (net, rec) => {
    const attempt = (label: string, f: () => unknown) =>
      rec.attempt("client", label, () => {
        const s = f() as { destroy?: () => void } | undefined
        s?.destroy?.()
      })
    attempt("connect()", () => net.connect(undefined as never))
    attempt("connect({})", () => net.connect({} as never))
    attempt("port -1", () => net.connect({ port: -1 }))
    attempt("port 65536", () => net.connect({ port: 65536 }))
    attempt("port 'abc'", () => net.connect({ port: "abc" as never }))
    attempt("port ''", () => net.connect({ port: "" as never }))
    attempt("port true", () => net.connect({ port: true as never }))
    attempt("port 1.5", () => net.connect({ port: 1.5 }))
    attempt("port NaN", () => net.connect({ port: NaN }))
    attempt("localAddress", () => net.connect({ port: 80, localAddress: "nope" }))
    attempt("localPort", () => net.connect({ port: 80, host: "127.0.0.1", localPort: "1" as never }))
    attempt("autoSelectFamily", () => net.connect({ port: 80, autoSelectFamily: "yes" as never }))
    attempt("autoSelectFamilyAttemptTimeout", () => net.connect({ port: 80, autoSelectFamilyAttemptTimeout: 0 }))
    attempt("lookup", () => net.connect({ port: 80, host: "a.example", lookup: "x" as never }))
    attempt("path", () => net.connect({ path: 1 as never }))
    attempt("timeout", () => net.connect({ port: 80, host: "127.0.0.1", timeout: -5 }))
    attempt("connect(new Socket)", () => new net.Socket().connect({ port: 80, host: "127.0.0.1", hints: 0 }))
  })
]
