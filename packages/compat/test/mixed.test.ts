/**
 * The proof that both faces share one engine: a compat (node:net-style) client
 * against an Effect server, and an Effect client against a compat server, on
 * real loopback sockets.
 */
import { assert, describe, it } from "@effect/vitest"
import net from "@sluice/compat"
import * as Network from "@sluice/core/Network"
import * as Socket from "@sluice/core/Socket"
import { NodeNetwork } from "@sluice/node-adapter"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import type { AddressInfo } from "node:net"

const decoder = new TextDecoder()

describe("both faces on one engine", () => {
  it.live("a compat client talks to an Effect server", () =>
    Effect.gen(function*() {
      const server = yield* Network.listen({ host: "127.0.0.1", port: 0 })
      assert.strictEqual(server.address._tag, "Tcp")
      const port = server.address._tag === "Tcp" ? server.address.port : -1
      // upper-case echo until the client half-closes
      yield* server.accept.pipe(
        Stream.take(1),
        Stream.runForEach((socket) =>
          Socket.use(socket, (s) =>
            s.reads.pipe(
              Stream.map((chunk) => new TextEncoder().encode(decoder.decode(chunk).toUpperCase())),
              Stream.run(s.writes)
            ))
        ),
        Effect.forkScoped
      )
      const events = yield* Effect.promise(() =>
        new Promise<Array<string>>((resolve, reject) => {
          const seen: Array<string> = []
          let received = ""
          const client = net.createConnection({ host: "127.0.0.1", port }, () => {
            seen.push("connect")
            client.end("shout it")
          })
          client.setEncoding("utf8")
          client.on("data", (data: string) => {
            received += data
          })
          client.on("end", () => seen.push(`end:${received}`))
          client.on("error", reject)
          client.on("close", (hadError: boolean) => {
            seen.push(`close:${hadError}`)
            resolve(seen)
          })
        })
      )
      assert.deepStrictEqual(events, ["connect", "end:SHOUT IT", "close:false"])
    }).pipe(Effect.scoped, Effect.provide(NodeNetwork.layer)))

  it.live("an Effect client talks to a compat server", () =>
    Effect.gen(function*() {
      const serverEvents: Array<string> = []
      const server = net.createServer((socket) => {
        serverEvents.push("connection")
        socket.on("data", (data) => socket.write(`<${data.toString()}>`))
        socket.on("end", () => {
          serverEvents.push("end")
          socket.end()
        })
        socket.on("close", () => serverEvents.push("close"))
      })
      yield* Effect.acquireRelease(
        Effect.callback<void>((resume) => {
          server.listen(0, "127.0.0.1", () => resume(Effect.void))
        }),
        () => Effect.callback<void>((resume) => void server.close(() => resume(Effect.void)))
      )
      const { port } = server.address() as AddressInfo
      const client = yield* Network.connect({ host: "127.0.0.1", port })
      yield* client.write("ping")
      const first = yield* client.reads.pipe(Stream.take(1), Stream.runCollect)
      assert.strictEqual(decoder.decode(first[0]), "<ping>")
      yield* client.endOfOutput
      const rest = yield* Stream.runCollect(client.reads)
      assert.strictEqual(rest.length, 0)
      assert.deepStrictEqual(serverEvents.slice(0, 2), ["connection", "end"])
    }).pipe(Effect.scoped, Effect.provide(NodeNetwork.layer)))
})
