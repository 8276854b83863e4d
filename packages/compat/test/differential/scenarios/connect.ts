/**
 * Scenarios: connecting (every signature), connect-time events and errors.
 */
import dns from "node:dns"
import type { AddressInfo } from "node:net"
import { listen, once, scenario, socketEvents, socketProps } from "../harness.ts"
import type { NetLike, Recorder, Scenario } from "../harness.ts"

const echoServer = async (net: NetLike, rec: Recorder) => {
  const server = rec.track(net.createServer((s) => s.pipe(s)))
  const port = await listen(server)
  return { server, port }
}

const connectAndClose = async (
  rec: Recorder,
  socket: ReturnType<NetLike["connect"]>,
  actor = "client"
) => {
  rec.watch(actor, socket, socketEvents)
  await once(socket, "connect")
  rec.props(actor, "connected", socket, socketProps)
  socket.end()
  await once(socket, "close")
  rec.props(actor, "closed", socket, socketProps)
}

export const connectScenarios: ReadonlyArray<Scenario> = [
  scenario("connect(port, host, listener)", async (net, rec) => {
    const { port } = await echoServer(net, rec)
    const socket = net.connect(port, "127.0.0.1", () => rec.log("client", "listener"))
    rec.props("client", "sync", socket, socketProps)
    await connectAndClose(rec, socket)
  }),
  scenario("createConnection(options, listener)", async (net, rec) => {
    const { port } = await echoServer(net, rec)
    const socket = net.createConnection({ port, host: "127.0.0.1" }, () => rec.log("client", "listener"))
    await connectAndClose(rec, socket)
  }),
  scenario("connect(port) defaults to localhost and emits 'lookup'", async (net, rec) => {
    const { port } = await echoServer(net, rec)
    const socket = net.connect(port)
    await connectAndClose(rec, socket)
  }, ["dns"]),
  scenario("connect with a string port", async (net, rec) => {
    const { port } = await echoServer(net, rec)
    const socket = net.connect({ port: String(port) as unknown as number, host: "127.0.0.1" })
    await connectAndClose(rec, socket)
  }),
  scenario("new Socket().connect(options) and the listener", async (net, rec) => {
    const { port } = await echoServer(net, rec)
    const socket = new net.Socket()
    rec.watch("client", socket, socketEvents)
    rec.props("client", "new", socket, socketProps)
    rec.log("client", "address() before connect", socket.address())
    socket.connect({ port, host: "127.0.0.1" }, () => rec.log("client", "listener"))
    rec.props("client", "connecting", socket, socketProps)
    await once(socket, "connect")
    rec.props("client", "connected", socket, socketProps)
    const a = socket.address() as AddressInfo
    rec.log("client", "address()", { address: a.address, family: a.family })
    socket.destroy()
    await once(socket, "close")
    rec.props("client", "destroyed", socket, socketProps)
  }),
  scenario("connect to a closed port: ECONNREFUSED with Node's shape", async (net, rec) => {
    const socket = net.connect(9, "127.0.0.1")
    rec.watch("client", socket, socketEvents)
    await once(socket, "close")
    rec.props("client", "closed", socket, socketProps)
  }),
  scenario("connect to a closed ephemeral port", async (net, rec) => {
    const server = net.createServer()
    const port = await listen(server)
    await new Promise((r) => server.close(r))
    const socket = net.connect({ port, host: "127.0.0.1" })
    rec.watch("client", socket, socketEvents)
    await once(socket, "close")
  }),
  scenario("ECONNREFUSED through 'localhost' (lookup, then attempt)", async (net, rec) => {
    const socket = net.connect({ port: 9, host: "localhost" })
    rec.watch("client", socket, socketEvents)
    await once(socket, "close")
    rec.log("client", "attempted", socket.autoSelectFamilyAttemptedAddresses)
  }, ["dns"]),
  scenario("connect with autoSelectFamily: false and family: 4", async (net, rec) => {
    const { port } = await echoServer(net, rec)
    const socket = net.connect({ port, host: "localhost", family: 4, autoSelectFamily: false })
    await connectAndClose(rec, socket)
  }, ["dns"]),
  scenario("a custom lookup receives Node's options and its answer is used", async (net, rec) => {
    const { port } = await echoServer(net, rec)
    const socket = net.connect({
      port,
      host: "my.example",
      lookup: (host, options, cb) => {
        rec.log("lookup", "called", host, options)
        const all = (options as { all?: boolean }).all
        if (all) {
          ;(cb as (e: null, a: Array<{ address: string; family: number }>) => void)(null, [{
            address: "127.0.0.1",
            family: 4
          }])
        } else cb(null, "127.0.0.1", 4)
      }
    })
    await connectAndClose(rec, socket)
  }),
  scenario("happy eyeballs over a custom lookup: ::1 refused, then 127.0.0.1", async (net, rec) => {
    const { port } = await echoServer(net, rec)
    const socket = net.connect({
      port,
      host: "dual.example",
      lookup: (_host, _options, cb) =>
        (cb as (e: null, a: Array<{ address: string; family: number }>) => void)(null, [
          { address: "::1", family: 6 },
          { address: "127.0.0.1", family: 4 },
          { address: "::1", family: 6 }
        ])
    })
    rec.watch("client", socket, socketEvents)
    await once(socket, "connect")
    rec.log("client", "attempted", socket.autoSelectFamilyAttemptedAddresses)
    socket.destroy()
    await once(socket, "close")
  }),
  scenario("happy eyeballs, every address refused: an AggregateError", async (net, rec) => {
    const socket = net.connect({
      port: 9,
      host: "dual.example",
      lookup: (_host, _options, cb) =>
        (cb as (e: null, a: Array<{ address: string; family: number }>) => void)(null, [
          { address: "127.0.0.1", family: 4 },
          { address: "::1", family: 6 }
        ])
    })
    rec.watch("client", socket, socketEvents)
    await once(socket, "close")
    rec.log("client", "attempted", socket.autoSelectFamilyAttemptedAddresses)
  }),
  scenario("a custom lookup without all, autoSelectFamily off", async (net, rec) => {
    const { port } = await echoServer(net, rec)
    const socket = net.connect({
      port,
      host: "my.example",
      autoSelectFamily: false,
      lookup: (host, options, cb) => {
        rec.log("lookup", "called", host, options)
        cb(null, "127.0.0.1", 4)
      }
    })
    await connectAndClose(rec, socket)
  }),
  scenario("a replaced dns.lookup is used by default (autoSelectFamily on and off)", async (net, rec) => {
    const { port } = await echoServer(net, rec)
    const original = dns.lookup
    const replacement = (host: string, options: unknown, cb: (...args: Array<unknown>) => void) => {
      const o = options as { all?: boolean; family?: number; hints?: number }
      rec.log("dns", "lookup", host, { all: o.all, family: o.family })
      if (o.all) cb(null, [{ address: "127.0.0.1", family: 4 }])
      else cb(null, "127.0.0.1", 4)
    }
    ;(dns as { lookup: unknown }).lookup = replacement
    try {
      await connectAndClose(rec, net.connect({ port, host: "replaced.example" }), "auto")
      await connectAndClose(rec, net.connect({ port, host: "replaced.example", autoSelectFamily: false }), "single")
    } finally {
      ;(dns as { lookup: unknown }).lookup = original
    }
  }, ["dns"]),
  scenario("a custom lookup's error is passed through unchanged", async (net, rec) => {
    const failure = Object.assign(new Error("no such host here"), { code: "ENOTFOUND" })
    const socket = net.connect({
      port: 80,
      host: "nowhere.example",
      lookup: (_host, _options, cb) => cb(failure, "", 0)
    })
    rec.watch("client", socket, socketEvents)
    const [error] = await once(socket, "error")
    rec.log("client", "same error object", error === failure)
    await once(socket, "close")
  }),
  scenario("a custom lookup answering a non-IP fails with ERR_INVALID_IP_ADDRESS", async (net, rec) => {
    const socket = net.connect({
      port: 80,
      host: "bad.example",
      autoSelectFamily: false,
      lookup: (_host, _options, cb) => cb(null, "not-an-ip", 4)
    })
    rec.watch("client", socket, socketEvents)
    await once(socket, "close")
  }),
  scenario("name lookup failure: getaddrinfo ENOTFOUND", async (net, rec) => {
    const socket = net.connect({ port: 80, host: "does-not-exist.invalid" })
    rec.watch("client", socket, socketEvents)
    await once(socket, "close")
  }, ["dns"]),
  scenario("connect over a unix socket path", async (net, rec) => {
    const server = rec.track(net.createServer((s) => s.end("hi")))
    const p = rec.path("a.sock")
    server.listen(p)
    await once(server, "listening")
    rec.log("server", "address()", server.address())
    const socket = new net.Socket()
    rec.watch("client", socket, socketEvents)
    socket.connect(p)
    await once(socket, "close")
    rec.props("client", "closed", socket, socketProps)
    rec.log("client", "address()", socket.address())
  }, ["ipc"]),
  scenario("connect to a missing unix socket path: ENOENT", async (net, rec) => {
    const socket = new net.Socket()
    rec.watch("client", socket, socketEvents)
    socket.connect({ path: rec.path("missing.sock") })
    await once(socket, "close")
  }, ["ipc"]),
  scenario(
    "connect() again while connecting: EALREADY names the local address of the first attempt",
    async (net, rec) => {
      const { port } = await echoServer(net, rec)
      const socket = new net.Socket()
      rec.watch("client", socket, socketEvents)
      socket.connect(port, "127.0.0.1")
      socket.connect(port, "127.0.0.1")
      rec.props("client", "after the second connect", socket, socketProps)
      await once(socket, "close")
      rec.props("client", "closed", socket, socketProps)
    }
  ),
  scenario("connect() again after the first attempt started: EALREADY names its local address", async (net, rec) => {
    const { port } = await echoServer(net, rec)
    const socket = new net.Socket()
    rec.watch("client", socket, socketEvents)
    socket.connect(port, "127.0.0.1")
    await once(socket, "connectionAttempt")
    socket.connect(port, "127.0.0.1")
    await once(socket, "close")
    rec.props("client", "closed", socket, socketProps)
  }),
  scenario("connect() again on a connected socket keeps its connection; a third connect: EISCONN", async (net, rec) => {
    const server = rec.track(net.createServer((s) => {
      rec.log("server", "connection")
      s.on("error", () => {})
      s.pipe(s)
    }))
    const port = await listen(server)
    const socket = new net.Socket()
    rec.watch("client", socket, socketEvents)
    socket.connect(port, "127.0.0.1")
    await once(socket, "connect")
    socket.write("one")
    await once(socket, "data")
    socket.connect(port, "127.0.0.1")
    rec.props("client", "after the second connect", socket, socketProps)
    await once(socket, "connect")
    rec.props("client", "connected again", socket, socketProps)
    socket.write("two")
    await once(socket, "data")
    socket.connect(port, "127.0.0.1")
    await once(socket, "close")
    rec.props("client", "closed", socket, socketProps)
  }),
  scenario("connect() twice in one tick on a connected socket: the second is EALREADY", async (net, rec) => {
    const { port } = await echoServer(net, rec)
    const socket = new net.Socket()
    rec.watch("client", socket, socketEvents)
    socket.connect(port, "127.0.0.1")
    await once(socket, "connect")
    socket.connect(port, "127.0.0.1")
    socket.connect(port, "127.0.0.1")
    await once(socket, "close")
    rec.props("client", "closed", socket, socketProps)
  }),
  scenario("connect() again with a local address: bind EINVAL before any attempt", async (net, rec) => {
    const { port } = await echoServer(net, rec)
    const socket = new net.Socket()
    rec.watch("client", socket, socketEvents)
    socket.connect(port, "127.0.0.1")
    await once(socket, "connect")
    socket.connect({ port, host: "127.0.0.1", localAddress: "127.0.0.1" })
    await once(socket, "close")
    rec.props("client", "closed", socket, socketProps)
  }),
  scenario("connect() again to an address the blockList blocks: ERR_IP_BLOCKED", async (net, rec) => {
    const { port } = await echoServer(net, rec)
    const blockList = new net.BlockList()
    blockList.addAddress("127.0.0.2")
    const socket = new net.Socket({ blockList } as ConstructorParameters<NetLike["Socket"]>[0])
    rec.watch("client", socket, socketEvents)
    socket.connect(port, "127.0.0.1")
    socket.connect(port, "127.0.0.2")
    await once(socket, "close")
    rec.props("client", "closed", socket, socketProps)
  }),
  scenario("connect() again on a local socket whose first connect fails: the first's error", async (net, rec) => {
    const socket = new net.Socket()
    rec.watch("client", socket, socketEvents)
    socket.connect(rec.path("missing-again.sock"))
    socket.connect(rec.path("missing-again.sock"))
    await once(socket, "close")
    rec.props("client", "closed", socket, socketProps)
  }, ["ipc"]),
  scenario("connect() again on a connected local socket: EISCONN", async (net, rec) => {
    const server = rec.track(net.createServer((s) => s.on("error", () => {})))
    const p = rec.path("again2.sock")
    server.listen(p)
    await once(server, "listening")
    const socket = new net.Socket()
    rec.watch("client", socket, socketEvents)
    socket.connect(p)
    await once(socket, "connect")
    socket.connect(p)
    rec.props("client", "after the second connect", socket, socketProps)
    await once(socket, "close")
    rec.props("client", "closed", socket, socketProps)
  }, ["ipc"]),
  scenario("reconnect a destroyed socket", async (net, rec) => {
    const { port } = await echoServer(net, rec)
    const socket = net.connect(port, "127.0.0.1")
    rec.watch("client", socket, socketEvents)
    await once(socket, "connect")
    socket.destroy()
    await once(socket, "close")
    socket.connect(port, "127.0.0.1")
    await once(socket, "connect")
    rec.props("client", "reconnected", socket, socketProps)
    socket.write("again")
    await once(socket, "data")
    socket.destroy()
    await once(socket, "close")
  }),
  scenario("destroy while connecting", async (net, rec) => {
    const { port } = await echoServer(net, rec)
    const socket = net.connect(port, "127.0.0.1")
    rec.watch("client", socket, socketEvents)
    socket.destroy()
    rec.props("client", "destroyed", socket, socketProps)
    await once(socket, "close")
  }),
  scenario("writes before connect are queued and counted", async (net, rec) => {
    const { port } = await echoServer(net, rec)
    const socket = net.connect(port, "127.0.0.1")
    rec.watch("client", socket, socketEvents)
    rec.log("client", "write 1", socket.write("abc"))
    rec.log("client", "write 2", socket.write(Buffer.from("defg")))
    rec.props("client", "queued", socket, ["bytesWritten", "bufferSize", "pending", "writableLength"])
    await once(socket, "connect")
    socket.end()
    await once(socket, "close")
    rec.props("client", "closed", socket, ["bytesWritten", "bytesRead"])
  }),
  scenario("corked writes before connect: bytesWritten of a pending writev", async (net, rec) => {
    const { port } = await echoServer(net, rec)
    const socket = net.connect(port, "127.0.0.1")
    rec.watch("client", socket, socketEvents)
    socket.cork()
    socket.write(Buffer.from("ab"))
    socket.write(Buffer.from("cd"))
    socket.uncork()
    rec.props("client", "buffers pending", socket, ["bytesWritten", "writableLength"])
    socket.cork()
    socket.write("xy")
    socket.write(Buffer.from("z"))
    socket.uncork()
    rec.props("client", "mixed pending", socket, ["bytesWritten", "writableLength"])
    await once(socket, "connect")
    socket.end()
    await once(socket, "close")
    rec.props("client", "closed", socket, ["bytesWritten"])
  }),
  scenario("end before connect: FIN after connect", async (net, rec) => {
    const { port } = await echoServer(net, rec)
    const socket = net.connect(port, "127.0.0.1")
    rec.watch("client", socket, socketEvents)
    socket.end("bye")
    await once(socket, "close")
    rec.props("client", "closed", socket, socketProps)
  }),
  scenario("connect with timeout option arms the idle timeout", async (net, rec) => {
    const { port } = await echoServer(net, rec)
    const socket = net.connect({ port, host: "127.0.0.1", timeout: 30 })
    rec.watch("client", socket, socketEvents)
    rec.log("client", "timeout", socket.timeout)
    await once(socket, "timeout")
    socket.destroy()
    await once(socket, "close")
  }),
  scenario("localAddress and localPort options", async (net, rec) => {
    const { port } = await echoServer(net, rec)
    const socket = net.connect({ port, host: "127.0.0.1", localAddress: "127.0.0.1" })
    await connectAndClose(rec, socket)
  }),
  scenario("signal aborted before connect", async (net, rec) => {
    const { port } = await echoServer(net, rec)
    const controller = new AbortController()
    controller.abort()
    const socket = net.connect({ port, host: "127.0.0.1", signal: controller.signal })
    rec.watch("client", socket, socketEvents)
    await once(socket, "close")
  }),
  scenario("signal aborted after connect", async (net, rec) => {
    const { port } = await echoServer(net, rec)
    const controller = new AbortController()
    const socket = net.connect({ port, host: "127.0.0.1", signal: controller.signal })
    rec.watch("client", socket, socketEvents)
    await once(socket, "connect")
    controller.abort()
    await once(socket, "close")
  }),
  scenario("noDelay and keepAlive options; setters return the socket", async (net, rec) => {
    const { port } = await echoServer(net, rec)
    const socket = net.connect({ port, host: "127.0.0.1", noDelay: true, keepAlive: true, keepAliveInitialDelay: 1000 })
    rec.watch("client", socket, socketEvents)
    await once(socket, "connect")
    rec.log("client", "setNoDelay", socket.setNoDelay() === socket, socket.setNoDelay(false) === socket)
    rec.log("client", "setKeepAlive", socket.setKeepAlive(true, 5000) === socket, socket.setKeepAlive(false) === socket)
    rec.log("client", "ref/unref", socket.unref() === socket, socket.ref() === socket)
    socket.destroy()
    await once(socket, "close")
  })
]
