/**
 * `fromSocket`: a compat `net.Socket` over a connection the Effect face
 * accepted or opened, on the memory network and on real loopback. The Node
 * side sees the connection's addresses and bytes and emits `'data'`, `'end'`
 * and `'close'` as for a socket its own server accepted; the Effect peer sees
 * what the Node side writes, then its FIN.
 */
import { assert, describe, it } from "@effect/vitest"
import { fromSocket } from "@sluice/compat"
import { Socket as CompatSocket } from "@sluice/compat/Socket"
import * as MemoryNetwork from "@sluice/core/MemoryNetwork"
import * as Network from "@sluice/core/Network"
import * as Server from "@sluice/core/Server"
import * as Socket from "@sluice/core/Socket"
import { driver as nodeDriver } from "@sluice/node-adapter/NodeDriver"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as realNet from "node:net"

const drivers = [
  { name: "memory", make: () => MemoryNetwork.make().driver },
  { name: "node", make: () => nodeDriver }
]

const decoder = new TextDecoder()
const readText = (socket: Socket.Socket) =>
  Stream.runFold(socket.reads, () => "", (text, chunk) => text + decoder.decode(chunk))

for (const d of drivers) {
  describe(`fromSocket on the ${d.name} driver`, () => {
    it.live("an accepted connection served by Node code: upper-cased echo, addresses, 'end' then 'close'", () =>
      Effect.gen(function*() {
        const server = yield* Network.listen({ host: "127.0.0.1", port: 0 })
        const seen: Array<string> = []
        let remotePort = 0
        let isCompat = false
        yield* Server.serve(server, (socket) =>
          Effect.callback<void>((resume) => {
            const node = fromSocket(socket, { allowHalfOpen: true, noDelay: true })
            isCompat = node instanceof CompatSocket && !(node instanceof realNet.Socket)
            remotePort = node.remotePort ?? 0
            node.on("data", (data: Buffer) => node.write(data.toString().toUpperCase()))
            node.on("end", () => {
              seen.push("end")
              node.end()
            })
            node.on("close", () => {
              seen.push("close")
              resume(Effect.void)
            })
          }))
        const port = server.address._tag === "Tcp" ? server.address.port : 0
        const reply = yield* Effect.scoped(Effect.gen(function*() {
          const client = yield* Network.connect({ host: "127.0.0.1", port })
          yield* client.write("hello from the effect face")
          yield* client.endOfOutput
          const text = yield* readText(client)
          const local = client.localAddress
          return { text, localPort: local?._tag === "Tcp" ? local.port : -1 }
        }))
        assert.strictEqual(reply.text, "HELLO FROM THE EFFECT FACE")
        assert.isTrue(isCompat)
        assert.strictEqual(remotePort, reply.localPort)
        yield* Effect.callback<void>((resume) => {
          const wait = () => (seen.length === 2 ? resume(Effect.void) : setImmediate(wait))
          wait()
        })
        assert.deepStrictEqual(seen, ["end", "close"])
      }).pipe(Effect.scoped, Effect.provide(Network.layer(d.make()))))

    it.live("a dialled connection handed to Node code: what it writes reaches the Effect-face server", () =>
      Effect.gen(function*() {
        const server = yield* Network.listen({ host: "127.0.0.1", port: 0 })
        const port = server.address._tag === "Tcp" ? server.address.port : 0
        const client = yield* Network.connect({ host: "127.0.0.1", port })
        const peer = yield* Effect.map(Stream.runHead(server.accept), Option.getOrThrow)
        const node = fromSocket(client)
        assert.strictEqual(node.remotePort, port)
        node.end("legacy bytes")
        assert.strictEqual(yield* readText(peer), "legacy bytes")
        yield* Effect.callback<void>((resume) => {
          if (node.destroyed) resume(Effect.void)
          else node.once("close", () => resume(Effect.void))
          peer.endOfOutput.pipe(Effect.runFork)
        })
      }).pipe(Effect.scoped, Effect.provide(Network.layer(d.make()))))
  })
}
