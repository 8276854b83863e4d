/**
 * Scenarios: a connected pair — data, half-close, timeouts, backpressure,
 * destroy and reset, write after end, encodings, async iteration, pipe, onread.
 */
import type { Socket } from "node:net"
import { accept, listen, once, scenario, socketEvents, socketProps } from "../harness.ts"
import type { NetLike, Recorder, Scenario } from "../harness.ts"

/** A connected client / server-side pair, both watched. */
const pair = async (
  net: NetLike,
  rec: Recorder,
  serverOptions: Parameters<NetLike["createServer"]>[0] = {},
  clientOptions: Record<string, unknown> = {}
): Promise<{ client: Socket; peer: Socket }> => {
  const server = rec.track(net.createServer(serverOptions))
  const port = await listen(server)
  const accepted = accept(server)
  const client = rec.watch("client", net.connect({ port, host: "127.0.0.1", ...clientOptions }), socketEvents)
  const peer = rec.watch("peer", await accepted, socketEvents)
  rec.props("peer", "accepted", peer, socketProps)
  await once(client, "connect")
  server.close()
  return { client, peer }
}

const bothClosed = (a: Socket, b: Socket) =>
  Promise.all([a.closed ? undefined : once(a, "close"), b.closed ? undefined : once(b, "close")])

export const socketScenarios: ReadonlyArray<Scenario> = [
  scenario("addresses never read before the close are gone after it; ones read before stay", async (net, rec) => {
    const server = rec.track(net.createServer())
    const port = await listen(server)
    const accepted = accept(server)
    const client = net.connect({ port, host: "127.0.0.1" })
    const peer = await accepted
    await once(client, "connect")
    server.close()
    // the client's peer address is read before the close, nothing else is
    const remotePortBefore = client.remotePort === port
    client.end()
    peer.resume()
    peer.end()
    await bothClosed(client, peer)
    const addresses = (s: Socket) => [s.remoteAddress, s.remoteFamily, s.localAddress, s.localPort]
    rec.log("client", "remote port read before close", remotePortBefore, "after close", client.remotePort === port)
    rec.log("client", "addresses after close", addresses(client))
    rec.log("peer", "addresses after close", addresses(peer))
  }),
  scenario(
    "a write the kernel takes at once leaves nothing queued; a large one behind it goes to the handle",
    async (net, rec) => {
      const { client, peer } = await pair(net, rec)
      peer.resume()
      const queues = () => [
        client.writableLength,
        client.bufferSize,
        (client as unknown as { _handle: { writeQueueSize: number } })._handle.writeQueueSize > 0
      ]
      rec.log("client", "small write returns", client.write("hello"), "then", queues())
      rec.log("client", "8 MiB write returns", client.write(Buffer.alloc(8 << 20)), "then", queues())
      await once(client, "drain")
      rec.log("client", "after drain", queues())
      client.end()
      await bothClosed(client, peer)
    }
  ),
  scenario("data both ways, then end from the client", async (net, rec) => {
    const { client, peer } = await pair(net, rec)
    client.write("ping")
    await once(peer, "data")
    peer.write("pong")
    await once(client, "data")
    client.end()
    await bothClosed(client, peer)
    rec.props("client", "closed", client, socketProps)
    rec.props("peer", "closed", peer, socketProps)
  }),
  scenario("end(data, callback) and end(callback)", async (net, rec) => {
    const { client, peer } = await pair(net, rec)
    rec.log("client", "end returns this", client.end("last words", () => rec.log("client", "end callback")) === client)
    await once(peer, "end")
    peer.end(() => rec.log("peer", "end callback"))
    await bothClosed(client, peer)
  }),
  scenario("allowHalfOpen on the server: the peer keeps writing after 'end'", async (net, rec) => {
    const { client, peer } = await pair(net, rec, { allowHalfOpen: true })
    client.end("request")
    await once(peer, "end")
    rec.props("peer", "after end", peer, socketProps)
    peer.write("response part 1, ")
    peer.end("part 2")
    await bothClosed(client, peer)
  }),
  scenario("allowHalfOpen on the client", async (net, rec) => {
    const { client, peer } = await pair(net, rec, {}, { allowHalfOpen: true })
    peer.end("server is done")
    await once(client, "end")
    rec.props("client", "after end", client, socketProps)
    client.end("client answers after the server's FIN")
    await bothClosed(client, peer)
  }),
  scenario("without allowHalfOpen, writing after the peer's FIN fails with EPIPE", async (net, rec) => {
    const { client, peer } = await pair(net, rec, { allowHalfOpen: true })
    peer.end()
    await once(client, "end")
    await once(client, "finish")
    client.write("too late", (err) => rec.log("client", "write callback", err))
    await bothClosed(client, peer)
  }),
  scenario("write after end: ERR_STREAM_WRITE_AFTER_END", async (net, rec) => {
    const { client, peer } = await pair(net, rec)
    client.end()
    client.write("x", (err) => rec.log("client", "write callback", err))
    await bothClosed(client, peer)
  }),
  scenario("destroy(error) emits 'error' then 'close' with hadError", async (net, rec) => {
    const { client, peer } = await pair(net, rec)
    client.destroy(new Error("boom"))
    rec.props("client", "destroyed", client, socketProps)
    await bothClosed(client, peer)
  }),
  scenario("destroy() without error; the peer sees a clean end", async (net, rec) => {
    const { client, peer } = await pair(net, rec)
    client.write("bye")
    await once(peer, "data")
    client.destroy()
    await bothClosed(client, peer)
    rec.props("peer", "closed", peer, socketProps)
  }),
  scenario("resetAndDestroy: the peer gets ECONNRESET", async (net, rec) => {
    const { client, peer } = await pair(net, rec)
    rec.log("client", "returns this", client.resetAndDestroy() === client)
    await bothClosed(client, peer)
  }),
  scenario("resetAndDestroy on a never-connected socket: ERR_SOCKET_CLOSED", async (net, rec) => {
    const socket = rec.watch("client", new net.Socket(), socketEvents)
    socket.resetAndDestroy()
    await once(socket, "close")
  }),
  scenario("destroySoon flushes then destroys", async (net, rec) => {
    const { client, peer } = await pair(net, rec)
    client.write("flush me")
    client.destroySoon()
    await bothClosed(client, peer)
  }),
  scenario("setTimeout fires 'timeout' once per idle period and does not close", async (net, rec) => {
    const { client, peer } = await pair(net, rec)
    rec.log("client", "setTimeout returns this", client.setTimeout(20) === client)
    rec.log("client", "timeout", client.timeout)
    await once(client, "timeout")
    rec.props("client", "after timeout", client, socketProps)
    client.write("activity")
    await once(client, "timeout")
    client.setTimeout(0)
    rec.log("client", "timeout after 0", client.timeout)
    client.end()
    await bothClosed(client, peer)
  }),
  scenario(
    "the idle timeout waits a period more for a write in progress, not for one the kernel took",
    async (net, rec) => {
      const { client, peer } = await pair(net, rec)
      peer.pause()
      // which comes first: the timeout (200 ms, or 400 ms when a write in progress defers it) or a timer at 300 ms
      const race = async (label: string) => {
        client.setTimeout(200)
        const order: Array<string> = []
        const marker = new Promise<void>((resolve) =>
          setTimeout(() => {
            order.push("300 ms")
            resolve()
          }, 300)
        )
        await Promise.all([once(client, "timeout").then(() => order.push("timeout")), marker])
        rec.log("client", label, order)
      }
      client.write("hello")
      await race("after a small write")
      client.write(Buffer.alloc(8 << 20))
      await race("with 8 MiB the peer does not read")
      client.setTimeout(0)
      client.destroy()
      peer.destroy()
      await bothClosed(client, peer)
    }
  ),
  scenario("setTimeout with a callback; setTimeout(0, callback) removes it", async (net, rec) => {
    const { client, peer } = await pair(net, rec)
    const cb = () => rec.log("client", "callback")
    client.setTimeout(15, cb)
    await once(client, "timeout")
    client.setTimeout(15, cb)
    client.setTimeout(0, cb)
    rec.log("client", "timeout listeners", client.listenerCount("timeout"))
    client.destroy()
    await bothClosed(client, peer)
  }),
  scenario("setTimeout validation errors", async (net, rec) => {
    const socket = rec.track(new net.Socket())
    rec.attempt("client", "setTimeout(-1)", () => socket.setTimeout(-1))
    rec.attempt("client", "setTimeout('1')", () => socket.setTimeout("1" as unknown as number))
    rec.attempt("client", "setTimeout(Infinity)", () => socket.setTimeout(Infinity))
    rec.attempt("client", "setTimeout(1, 'x')", () => socket.setTimeout(1, "x" as unknown as () => void))
    rec.log("client", "timeout", socket.timeout)
  }),
  scenario("setTimeout before connect counts from then", async (net, rec) => {
    const server = rec.track(net.createServer())
    const port = await listen(server)
    const socket = rec.watch("client", new net.Socket(), socketEvents)
    socket.setTimeout(25)
    socket.connect(port, "127.0.0.1")
    await once(socket, "timeout")
    socket.destroy()
    await once(socket, "close")
  }),
  scenario("pause and resume; 'data' only while flowing", async (net, rec) => {
    const { client, peer } = await pair(net, rec)
    peer.pause()
    rec.log("peer", "isPaused", peer.isPaused())
    client.write("held back")
    await rec.ticks(20)
    rec.log("peer", "readableLength > 0", peer.readableLength > 0)
    peer.resume()
    await once(peer, "data")
    client.end()
    await bothClosed(client, peer)
  }),
  scenario("backpressure: write returns false, 'drain' follows, bytes arrive intact", async (net, rec) => {
    const { client, peer } = await pair(net, rec)
    peer.pause()
    const chunk = Buffer.alloc(64 * 1024, 97)
    let writes = 0
    while (client.write(chunk)) writes++
    rec.log("client", "write returned false", writes < 1000)
    rec.log("client", "bufferSize > 0", (client.bufferSize ?? 0) > 0)
    let received = 0
    peer.on("data", (d: Buffer) => {
      received += d.length
    })
    peer.removeAllListeners("data")
    peer.on("data", (d: Buffer) => {
      received += d.length
    })
    peer.resume()
    await once(client, "drain")
    client.end()
    await once(peer, "end")
    rec.log("peer", "received all", received === (writes + 1) * chunk.length)
    rec.log("client", "bytesWritten", client.bytesWritten === (writes + 1) * chunk.length)
    rec.log("peer", "bytesRead", peer.bytesRead === (writes + 1) * chunk.length)
    await bothClosed(client, peer)
  }),
  scenario("setEncoding delivers strings", async (net, rec) => {
    const { client, peer } = await pair(net, rec)
    peer.setEncoding("utf8")
    const got: Array<string> = []
    peer.on("data", (d: unknown) => got.push(typeof d))
    client.end("héllo €")
    await once(peer, "end")
    rec.log("peer", "chunk types", [...new Set(got)])
    await bothClosed(client, peer)
  }),
  scenario("async iteration reads until the peer ends", async (net, rec) => {
    const { client, peer } = await pair(net, rec)
    client.end("one two three")
    let text = ""
    for await (const chunk of peer) text += String(chunk)
    rec.log("peer", "text", text)
    await bothClosed(client, peer)
  }),
  scenario("pipe: an echo through pipe()", async (net, rec) => {
    const { client, peer } = await pair(net, rec)
    peer.pipe(peer)
    client.end("echo me")
    await bothClosed(client, peer)
  }),
  scenario("'readable' and read()", async (net, rec) => {
    const { client, peer } = await pair(net, rec)
    let text = ""
    peer.on("readable", () => {
      let chunk: Buffer | null
      while ((chunk = peer.read() as Buffer | null) !== null) text += chunk.toString()
    })
    client.end("read me")
    await once(peer, "end")
    rec.log("peer", "text", text)
    await bothClosed(client, peer)
  }),
  scenario("cork and uncork batch writes", async (net, rec) => {
    const { client, peer } = await pair(net, rec)
    client.cork()
    client.write("a")
    client.write("b")
    client.write(Buffer.from("c"))
    rec.props("client", "corked", client, ["writableCorked", "writableLength", "bytesWritten"])
    client.uncork()
    client.end()
    await bothClosed(client, peer)
    rec.props("client", "closed", client, ["bytesWritten"])
  }),
  scenario("write with encodings and callbacks", async (net, rec) => {
    const { client, peer } = await pair(net, rec)
    client.write("68656c6c6f", "hex", () => rec.log("client", "hex written"))
    client.write("IHdvcmxk", "base64", () => rec.log("client", "base64 written"))
    client.end()
    await bothClosed(client, peer)
    rec.props("client", "closed", client, ["bytesWritten"])
    rec.props("peer", "closed", peer, ["bytesRead"])
  }),
  scenario("onread delivers into a caller's buffer", async (net, rec) => {
    const server = rec.track(net.createServer((s) => s.end("abcdefghij")))
    const port = await listen(server)
    const buffer = Buffer.alloc(4)
    let text = ""
    const client = net.connect({
      port,
      host: "127.0.0.1",
      onread: {
        buffer,
        callback: (n: number, buf: Buffer) => {
          text += buf.toString("latin1", 0, n)
          return true
        }
      }
    })
    rec.watch("client", client, ["connect", "end", "close", "error"])
    await once(client, "close")
    rec.log("client", "text", text)
  }),
  scenario("socket[Symbol.asyncDispose] destroys", async (net, rec) => {
    const { client, peer } = await pair(net, rec)
    await (client as unknown as AsyncDisposable)[Symbol.asyncDispose]()
    rec.props("client", "disposed", client, socketProps)
    await bothClosed(client, peer)
  }),
  scenario("readable: false / writable: false constructor options", async (net, rec) => {
    const s1 = rec.track(new net.Socket({ readable: false }))
    rec.props("s1", "new", s1, ["readable", "writable", "readyState"])
    const s2 = rec.track(new net.Socket({ writable: false }))
    rec.props("s2", "new", s2, ["readable", "writable", "readyState"])
  }),
  scenario("constructor validation: objectMode, keepAliveInitialDelay", async (net, rec) => {
    rec.attempt("client", "objectMode", () => new net.Socket({ objectMode: true } as never))
    rec.attempt("client", "readableObjectMode", () => new net.Socket({ readableObjectMode: true } as never))
    rec.attempt("client", "keepAliveInitialDelay", () => new net.Socket({ keepAliveInitialDelay: "1" } as never))
  })
]
