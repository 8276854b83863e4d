/**
 * Sluice TLS against other TLS stacks: effect's own `NodeSocket.makeTls`
 * client and `NodeSocketServer.makeTls` server (`@effect/platform-node`, over
 * node:tls), Node's `https` client, and effect/rpc over Sluice TLS sockets on
 * the memory network.
 */
import * as NodeSocket from "@effect/platform-node/NodeSocket"
import * as NodeSocketServer from "@effect/platform-node/NodeSocketServer"
import { assert, describe, it } from "@effect/vitest"
import * as Interop from "@sluice/core/Interop"
import * as MemoryNetwork from "@sluice/core/MemoryNetwork"
import * as Network from "@sluice/core/Network"
import * as Socket from "@sluice/core/Socket"
import { driver } from "@sluice/node-adapter/NodeDriver"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Rpc from "effect/rpc/Rpc"
import * as RpcClient from "effect/rpc/RpcClient"
import * as RpcGroup from "effect/rpc/RpcGroup"
import * as RpcSerialization from "effect/rpc/RpcSerialization"
import * as RpcServer from "effect/rpc/RpcServer"
import * as Schema from "effect/Schema"
import * as EffectSocket from "effect/socket/Socket"
import * as SocketServer from "effect/socket/SocketServer"
import * as Stream from "effect/Stream"
import * as https from "node:https"
import type * as tls from "node:tls"
import { tcpPort, text } from "./helpers.ts"
import { ca, clientTls, echo, leaf, readText, runTls, serverTls, tlsServer } from "./TlsFixtures.ts"

const bytes = (chunks: ReadonlyArray<Uint8Array | string>): Array<Uint8Array> =>
  chunks.map((c) => (typeof c === "string" ? new TextEncoder().encode(c) : c))

/** Pulls from an effect/socket reader until the peer closes; the text received. */
const pullAll = (reader: EffectSocket.Reader) =>
  Effect.gen(function*() {
    const got: Array<Uint8Array> = []
    while (true) {
      const chunks = yield* Effect.result(reader.pull)
      if (chunks._tag === "Failure") return text(got)
      got.push(...bytes(chunks.success))
    }
  })

describe("TLS interop", () => {
  it.live("effect's NodeSocket.makeTls client talks to a Sluice TLS server", () =>
    runTls(
      driver,
      Effect.gen(function*() {
        const { port } = yield* tlsServer("127.0.0.1", { ...serverTls, alpnProtocols: ["echo/1"] })
        const socket = yield* NodeSocket.makeTls({
          host: "127.0.0.1",
          port,
          ca: ca.cert,
          servername: "localhost",
          ALPNProtocols: ["echo/1"]
        })
        const reader = yield* socket.reader
        yield* Effect.scoped(Effect.gen(function*() {
          const writer = yield* socket.writer
          yield* writer.write("from effect/socket over node:tls")
        }))
        assert.strictEqual(yield* pullAll(reader), "from effect/socket over node:tls")
      })
    ))

  it.live("a Sluice TLS client talks to effect's NodeSocketServer.makeTls server", () =>
    runTls(
      driver,
      Effect.gen(function*() {
        const server = yield* NodeSocketServer.makeTls({
          host: "127.0.0.1",
          port: 0,
          key: leaf.key,
          cert: leaf.cert,
          ALPNProtocols: ["shout/1"]
        })
        yield* Effect.forkScoped(server.run((socket) =>
          Effect.scoped(Effect.gen(function*() {
            const reader = yield* socket.reader
            const writer = yield* socket.writer
            const got = yield* pullAll(reader)
            yield* writer.write(got.toUpperCase())
          }))
        ))
        const port = server.address._tag === "UnixPathAddress" ? 0 : server.address.port
        const socket = yield* Network.connect({
          host: "127.0.0.1",
          port,
          tls: { ...clientTls, alpnProtocols: ["shout/1"] }
        })
        assert.strictEqual(socket.tls?.alpnProtocol, "shout/1")
        yield* socket.write("from sluice")
        yield* socket.endOfOutput
        assert.strictEqual(yield* readText(socket), "FROM SLUICE")
      })
    ))

  it.live("an HTTPS exchange: Node's https client against a Sluice TLS server", () =>
    runTls(
      driver,
      Effect.gen(function*() {
        const answer = (s: Socket.Socket) =>
          Effect.scoped(Effect.gen(function*() {
            let request = ""
            const pull = yield* Stream.toPull(s.reads)
            while (!request.includes("\r\n\r\n")) request += text(yield* pull)
            const path = request.split(" ")[1]
            const body = `hello over ${s.tls?.protocol} with ${s.tls?.alpnProtocol}, you asked for ${path}`
            yield* s.write(
              `HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`
            )
          }))
        const { port } = yield* tlsServer("127.0.0.1", { ...serverTls, alpnProtocols: ["http/1.1"] }, answer)
        const response = yield* Effect.promise(() =>
          new Promise<{ status: number; body: string; alpn: string | false }>((resolve, reject) => {
            const options: https.RequestOptions & Pick<tls.ConnectionOptions, "ALPNProtocols"> = {
              host: "127.0.0.1",
              port,
              path: "/over/https",
              ca: ca.cert,
              servername: "localhost",
              ALPNProtocols: ["http/1.1"],
              agent: false
            }
            const request = https.get(options, (res) => {
              let body = ""
              res.setEncoding("utf8")
              res.on("data", (c: string) => (body += c))
              res.on("end", () =>
                resolve({
                  status: res.statusCode ?? 0,
                  body,
                  alpn: (res.socket as unknown as { alpnProtocol: string | false }).alpnProtocol
                }))
            })
            request.on("error", reject)
          })
        )
        assert.strictEqual(response.status, 200)
        assert.strictEqual(response.body, "hello over TLSv1.3 with http/1.1, you asked for /over/https")
        assert.strictEqual(response.alpn, "http/1.1")
      })
    ))

  it.live("effect/rpc over Sluice TLS sockets, on the memory network", () => {
    const Shout = Rpc.make("Shout", { payload: { text: Schema.String }, success: Schema.String })
    const Api = RpcGroup.make(Shout)
    const Handlers = Api.toLayer(Effect.succeed({ Shout: ({ text }) => Effect.succeed(text.toUpperCase()) }))
    return Effect.gen(function*() {
      const socketServer = yield* Interop.makeSocketServer({ host: "127.0.0.1", port: 0, tls: serverTls })
      yield* Layer.build(
        RpcServer.layer(Api).pipe(
          Layer.provide(Handlers),
          Layer.provide(RpcServer.layerProtocolSocketServer),
          Layer.provide(Layer.succeed(SocketServer.SocketServer)(socketServer)),
          Layer.provide(RpcSerialization.layerNdjson)
        )
      )
      const address = socketServer.address
      const port = address._tag === "UnixPathAddress" ? 0 : address.port
      const socket = yield* Interop.makeEffectSocket({ host: "127.0.0.1", port, tls: clientTls })
      const protocol = yield* Layer.build(
        RpcClient.layerProtocolSocket().pipe(
          Layer.provide(Layer.succeed(EffectSocket.Socket)(socket)),
          Layer.provide(RpcSerialization.layerNdjson)
        )
      )
      const client = yield* RpcClient.make(Api).pipe(Effect.provide(protocol))
      assert.strictEqual(yield* client.Shout({ text: "encrypted, in memory" }), "ENCRYPTED, IN MEMORY")
      const many = yield* Effect.forEach(
        Array.from({ length: 20 }, (_, i) => i),
        (i) => client.Shout({ text: `n${i}` }),
        { concurrency: 5 }
      )
      assert.strictEqual(many[19], "N19")
    }).pipe((body) => runTls(MemoryNetwork.make().driver, body))
  })

  it.live("a TLS server and a plain one side by side: the plain one needs no provider", () =>
    runTls(
      driver,
      Effect.gen(function*() {
        const { port } = yield* tlsServer("127.0.0.1")
        const plain = yield* Network.listen({ host: "127.0.0.1", port: 0 })
        yield* Effect.forkScoped(Stream.runForEach(plain.accept, (s) => Effect.forkScoped(Socket.use(s, echo))))
        const secure = yield* Network.connect({ host: "127.0.0.1", port, tls: clientTls })
        const raw = yield* Network.connect({ host: "127.0.0.1", port: tcpPort(plain.address) })
        yield* Effect.forEach([secure, raw], (s) => Effect.andThen(s.write("same engine"), s.endOfOutput))
        assert.deepStrictEqual(yield* Effect.forEach([secure, raw], readText), ["same engine", "same engine"])
      })
    ))
})
