/**
 * Scenarios: `_handle` behaves as a libuv handle — socket options go through
 * `_handle.setNoDelay` / `_handle.setKeepAlive`, the server's
 * `_handle.onconnection` is the accept path, `server.address()` reads
 * `_handle.getsockname`, a socket's handle answers `getsockname`,
 * `getpeername`, `readStop`, `readStart` and `fd`, a write after
 * `_handle.close()` fails with `write EBADF`, and `new net.Socket({ handle })`
 * takes an accepted handle.
 */
import type { Server, Socket } from "node:net"
import { listen, once, scenario, socketEvents } from "../harness.ts"
import type { Recorder, Scenario } from "../harness.ts"

interface HandleLike {
  setNoDelay?: (enable: boolean) => unknown
  setKeepAlive?: (enable: boolean, delay: number) => unknown
  getsockname?: (out: Record<string, unknown>) => number
  getpeername?: (out: Record<string, unknown>) => number
  onconnection?: (error: number, clientHandle: HandleLike) => void
  close?: (cb?: () => void) => void
  readStop?: () => number
  readStart?: () => number
  fd?: number
}

const handleOf = (x: Socket | Server): HandleLike => (x as unknown as { _handle: HandleLike })._handle

/** Records each call of the handle's `setNoDelay` and `setKeepAlive` under `actor`, then makes it. */
const spyOptions = (rec: Recorder, actor: string, handle: HandleLike) => {
  const setNoDelay = handle.setNoDelay
  const setKeepAlive = handle.setKeepAlive
  handle.setNoDelay = function(enable) {
    rec.log(actor, "_handle.setNoDelay", enable)
    return setNoDelay?.call(this, enable)
  }
  handle.setKeepAlive = function(enable, delay) {
    rec.log(actor, "_handle.setKeepAlive", enable, delay)
    return setKeepAlive?.call(this, enable, delay)
  }
}

const closeServer = (server: Server) => new Promise<unknown>((resolve) => server.close(resolve))

export const libuvScenarios: ReadonlyArray<Scenario> = [
  scenario("noDelay and keepAlive at connect, then setNoDelay / setKeepAlive, go through _handle", async (net, rec) => {
    const server = rec.track(net.createServer((s) => s.resume()))
    const port = await listen(server)
    const client = net.connect({ port, host: "127.0.0.1", noDelay: true, keepAlive: true, keepAliveInitialDelay: 2500 })
    rec.track(client)
    spyOptions(rec, "client", handleOf(client))
    client.setNoDelay(true)
    rec.log("client", "connecting")
    await once(client, "connect")
    rec.log("client", "connected")
    client.setNoDelay(true)
    client.setNoDelay(false)
    client.setNoDelay()
    client.setKeepAlive(true, 2500)
    client.setKeepAlive(true, 4000)
    client.setKeepAlive(false)
    client.setKeepAlive(false, 1000)
    client.destroy()
    await once(client, "close")
    await closeServer(server)
  }),
  scenario(
    "the server's _handle.onconnection accepts; noDelay and keepAlive reach the client handle",
    async (net, rec) => {
      const server = rec.watch(
        "server",
        net.createServer({ noDelay: true, keepAlive: true, keepAliveInitialDelay: 3000 }, (s) => {
          rec.log("server", "socket has the handle", handleOf(s) === accepted)
          spyOptions(rec, "accepted", handleOf(s))
          s.setNoDelay(true)
          s.setKeepAlive(true, 3000)
          s.setKeepAlive(true, 1000)
          s.end("bye")
        }),
        ["connection", "error"]
      )
      let accepted: HandleLike | undefined
      const port = await listen(server)
      const handle = handleOf(server)
      const onconnection = handle.onconnection
      rec.log("server", "onconnection", typeof onconnection)
      handle.onconnection = function(error, clientHandle) {
        rec.log("server", "onconnection called", error, typeof clientHandle, this === handle)
        accepted = clientHandle
        spyOptions(rec, "onconnection", clientHandle)
        onconnection?.call(this, error, clientHandle)
      }
      const client = rec.watch("client", net.connect(port, "127.0.0.1"), ["data", "end", "close"])
      client.setEncoding("latin1")
      await once(client, "close")
      await closeServer(server)
    }
  ),
  scenario("new net.Socket({ handle }) takes the handle a server accepted", async (net, rec) => {
    const server = rec.watch("server", net.createServer(), ["connection", "error"])
    const port = await listen(server)
    const handle = handleOf(server)
    const adopted = new Promise<Socket>((resolve) => {
      handle.onconnection = (_error, clientHandle) => resolve(new net.Socket({ handle: clientHandle } as never))
    })
    const client = rec.watch("client", net.connect(port, "127.0.0.1"), ["data", "end", "close"])
    client.setEncoding("latin1")
    await once(client, "connect")
    const socket = rec.watch("adopted", await adopted, socketEvents)
    rec.log("adopted", "props", {
      connecting: socket.connecting,
      pending: socket.pending,
      readyState: socket.readyState,
      remoteAddress: socket.remoteAddress,
      remotePort: socket.remotePort === client.localPort,
      localPort: socket.localPort === port
    })
    socket.setEncoding("latin1")
    client.end("hello")
    await once(socket, "end")
    socket.end("world")
    await Promise.all([once(client, "close"), socket.closed ? undefined : once(socket, "close")])
    await closeServer(server)
  }),
  scenario("server.address() reads _handle.getsockname and throws its error", async (net, rec) => {
    const server = rec.track(net.createServer())
    await listen(server)
    const handle = handleOf(server)
    rec.log("server", "getsockname", typeof handle.getsockname)
    const getsockname = handle.getsockname
    handle.getsockname = (out) => {
      out["address"] = "192.0.2.1"
      out["family"] = "IPv4"
      out["port"] = 7
      return 0
    }
    rec.log("server", "address() filled by getsockname", server.address())
    handle.getsockname = () => -9
    rec.attempt("server", "address() with EBADF", () => server.address())
    handle.getsockname = () => -22
    rec.attempt("server", "address() with EINVAL", () => server.address())
    if (getsockname !== undefined) handle.getsockname = getsockname
    await closeServer(server)
    rec.log("server", "address() closed", server.address())
  }),
  scenario("a connected socket's _handle: getsockname, getpeername, fd, readStop, readStart", async (net, rec) => {
    const server = rec.track(net.createServer((s) => s.end("abc")))
    const port = await listen(server)
    const client = rec.watch("client", net.connect(port, "127.0.0.1"), ["data", "end", "close"])
    client.pause()
    await once(client, "connect")
    const handle = handleOf(client)
    const kinds: Record<string, string> = {}
    for (const k of ["close", "getsockname", "getpeername", "readStart", "readStop", "ref", "unref", "fd"]) {
      kinds[k] = typeof (handle as Record<string, unknown>)[k]
    }
    rec.log("client", "handle members", kinds)
    const local: Record<string, unknown> = {}
    rec.log("client", "getsockname", handle.getsockname?.(local), local.port === client.localPort, local)
    const peer: Record<string, unknown> = {}
    rec.log("client", "getpeername", handle.getpeername?.(peer), peer.port === port, peer)
    rec.log("client", "readStop, readStart", handle.readStop?.(), handle.readStart?.())
    client.setEncoding("latin1")
    client.resume()
    await once(client, "close")
    rec.log("client", "closed: fd", handle.fd)
    await closeServer(server)
  }),
  scenario("a connected socket's and a listening server's _handle.fd are descriptors", async (net, rec) => {
    const server = rec.track(net.createServer((s) => s.end()))
    const port = await listen(server)
    const serverFd = handleOf(server).fd
    rec.log("server", "fd is a descriptor", typeof serverFd === "number" && serverFd >= 0)
    const client = rec.watch("client", net.connect(port, "127.0.0.1"), ["end", "close"])
    await once(client, "connect")
    const fd = handleOf(client).fd
    rec.log("client", "fd is a descriptor", typeof fd === "number" && fd >= 0)
    client.resume()
    await once(client, "close")
    await closeServer(server)
  }, ["fd"]),
  scenario(
    "a server's _handle.close(): still listening, address() EBADF, refused, server.close() ends it",
    async (net, rec) => {
      const server = rec.watch("server", net.createServer(), ["connection", "error", "close"])
      const port = await listen(server)
      const handle = handleOf(server) as HandleLike & { ref?: unknown; unref?: unknown; hasRef?: () => boolean }
      const kinds: Record<string, string> = {}
      for (const k of ["close", "getsockname", "onconnection", "ref", "unref", "hasRef", "fd"]) {
        kinds[k] = typeof (handle as Record<string, unknown>)[k]
      }
      rec.log("server", "handle members", kinds, handle.hasRef?.())
      const closed = new Promise<void>((resolve) => handle.close?.(() => resolve()))
      rec.log("server", "closing: listening", server.listening, handle.fd)
      rec.attempt("server", "address()", () => server.address())
      await closed
      rec.log("server", "closed: listening", server.listening)
      const client = rec.watch("client", net.connect(port, "127.0.0.1"), ["connect", "error", "close"])
      await once(client, "close")
      rec.log("server", "server.close callback", await closeServer(server))
      rec.log("server", "after: listening", server.listening, server.address())
    }
  ),
  scenario("a write after _handle.close() fails with write EBADF", async (net, rec) => {
    const server = rec.track(net.createServer((s) => s.resume()))
    const port = await listen(server)
    const client = rec.watch("client", net.connect(port, "127.0.0.1"), [...socketEvents, "finish"])
    await once(client, "connect")
    const handle = handleOf(client)
    handle.close?.(() => rec.log("client", "_handle.close callback"))
    rec.log("client", "after close", {
      fd: handle.fd,
      getsockname: handle.getsockname?.({}),
      destroyed: client.destroyed
    })
    rec.log("client", "write returned", client.write("x", (e) => rec.log("client", "write callback", e)))
    await once(client, "error")
    rec.log("client", "destroyed", client.destroyed, handleOf(client) === null)
    await rec.ticks(4)
    await closeServer(server)
  })
]
