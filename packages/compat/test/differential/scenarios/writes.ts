/**
 * Scenarios: text writes — every encoding, multi-byte and lone-surrogate
 * UTF-8, corked writes (one `writev` with strings and buffers mixed), and
 * the counters Node keeps for them (`bytesWritten`, `bufferSize`,
 * `writableLength`), with what the peer receives (as hex).
 */
import type { Socket } from "node:net"
import { accept, listen, once, scenario } from "../harness.ts"
import type { NetLike, Recorder, Scenario } from "../harness.ts"

const counters = ["bytesWritten", "bufferSize", "writableLength"] as const

/** A connected pair; resolves with the client and everything the peer received, once both closed. */
const exchange = async (net: NetLike, rec: Recorder, write: (client: Socket) => void) => {
  const server = rec.track(net.createServer())
  const port = await listen(server)
  const accepted = accept(server)
  const client = rec.track(net.connect(port, "127.0.0.1"))
  const peer = rec.track(await accepted)
  await once(client, "connect")
  server.close()
  const received: Array<Buffer> = []
  peer.on("data", (chunk: Buffer) => received.push(chunk))
  const ended = once(peer, "end")
  write(client)
  rec.props("client", "after the writes", client, counters)
  client.end()
  await ended
  rec.props("client", "ended", client, counters)
  rec.log("peer", "received", Buffer.concat(received).toString("hex"), peer.bytesRead)
  peer.end()
  await Promise.all([client.closed ? undefined : once(client, "close"), peer.closed ? undefined : once(peer, "close")])
  rec.props("client", "closed", client, ["bytesWritten"])
}

const texts = ["plain ascii", "é ü ß", "😀 ∑ 中文", "lone \ud800 surrogate", "\u00ff\u0100\u20ac", ""]
const encodings = ["utf8", "utf-8", "latin1", "binary", "ascii", "hex", "base64", "base64url", "ucs2", "utf16le"]

export const writeScenarios: ReadonlyArray<Scenario> = [
  scenario("text writes in every encoding: bytes sent and counters", async (net, rec) => {
    await exchange(net, rec, (client) => {
      for (const encoding of encodings) {
        for (const text of texts) {
          const data = encoding === "hex" ? "c3a9ff0" : encoding.startsWith("base64") ? "w6nDvA==" : text
          rec.log("client", `write ${encoding}`, client.write(data, encoding as BufferEncoding), client.bytesWritten)
        }
      }
      client.setDefaultEncoding("latin1")
      rec.log("client", "write with default latin1", client.write("\u00e9\u20ac"), client.bytesWritten)
    })
  }),
  scenario("corked text writes: one writev with strings and buffers mixed", async (net, rec) => {
    await exchange(net, rec, (client) => {
      client.cork()
      client.write("é")
      client.write(Buffer.from([1, 2, 3]))
      client.write("\u00e9", "latin1")
      client.write("😀")
      client.write("c3a9", "hex")
      rec.props("client", "corked", client, counters)
      client.uncork()
      rec.props("client", "uncorked", client, counters)
      client.cork()
      for (let i = 0; i < 50; i++) client.write(`*3\r\n$3\r\nSET\r\n$${String(i).length}\r\n${i}\r\n`)
      client.uncork()
      rec.props("client", "50 commands uncorked", client, counters)
    })
  }),
  scenario("a large text write the kernel cannot take at once: counters until 'drain'", async (net, rec) => {
    const server = rec.track(net.createServer())
    const port = await listen(server)
    const accepted = accept(server)
    const client = rec.track(net.connect(port, "127.0.0.1"))
    const peer = rec.track(await accepted)
    await once(client, "connect")
    server.close()
    peer.pause()
    const big = "ü".repeat(4 << 20)
    rec.log("client", "write returns", client.write(big))
    rec.props("client", "queued", client, counters)
    let got = 0
    peer.on("data", (c: Buffer) => (got += c.length))
    peer.resume()
    await once(client, "drain")
    rec.props("client", "drained", client, counters)
    client.end()
    await once(peer, "end")
    rec.log("peer", "received bytes", got)
    peer.end()
    await Promise.all([
      client.closed ? undefined : once(client, "close"),
      peer.closed ? undefined : once(peer, "close")
    ])
  })
]
