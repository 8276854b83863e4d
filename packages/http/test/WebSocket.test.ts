/**
 * WebSocket upgrades through SluiceHttpServer: an effect/http route upgrades
 * the request (`request.upgrade`, an `effect/socket` Socket) and echoes what
 * it reads. The client is `ws`, dialling with compat's `createConnection`
 * over the current `Network` (memory network and loopback), and on loopback
 * also Node's global `WebSocket`.
 */
import { assert, describe, it } from "@effect/vitest"
import { createNet } from "@sluice/compat"
import * as Network from "@sluice/core/Network"
import * as Testing from "@sluice/core/Testing"
import { SluiceHttpServer } from "@sluice/http"
import * as Effect from "effect/Effect"
import * as HttpRouter from "effect/http/HttpRouter"
import * as HttpServerRequest from "effect/http/HttpServerRequest"
import * as HttpServerResponse from "effect/http/HttpServerResponse"
import * as Layer from "effect/Layer"
import * as EffectSocket from "effect/socket/Socket"
import * as Stream from "effect/Stream"
import type { Duplex } from "node:stream"
import { WebSocket as WsClient } from "ws"
import { networks, serverPort } from "./fixtures.ts"

const Echo = HttpRouter.add(
  "GET",
  "/ws",
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const socket = yield* request.upgrade
    const writer = yield* socket.writer
    yield* Stream.runForEach(EffectSocket.toStream(socket), (chunk) => writer.write(chunk)).pipe(Effect.ignore)
    return HttpServerResponse.empty()
  }).pipe(Effect.scoped)
)

const Served = HttpRouter.serve(Echo, { disableLogger: true, disableListenLog: true }).pipe(
  Layer.provideMerge(SluiceHttpServer.layer({ host: "127.0.0.1", port: 0 }))
)

/** Opens `socket`, sends each message, collects as many answers, closes. */
const exchange = (socket: WebSocket | WsClient, messages: ReadonlyArray<string>) =>
  Effect.callback<Array<string>, Error>((resume) => {
    // the echo answers in binary frames
    socket.binaryType = "arraybuffer"
    const answers: Array<string> = []
    socket.addEventListener("open", () => {
      for (const m of messages) socket.send(m)
    })
    socket.addEventListener("message", (event: { data: unknown }) => {
      answers.push(typeof event.data === "string" ? event.data : Buffer.from(event.data as ArrayBuffer).toString())
      if (answers.length === messages.length) socket.close(1000)
    })
    socket.addEventListener("close", () => resume(Effect.succeed(answers)))
    socket.addEventListener("error", () => resume(Effect.fail(new Error("WebSocket error"))))
  })

const messages = ["one", "two", "x".repeat(100_000)]

for (const network of networks) {
  const test = network.live ? it.live : it.effect
  describe(`WebSocket upgrades, ${network.name} network`, () => {
    test("ws over Sluice connections: every message echoed, in order", () =>
      Testing.run(
        network.layer(),
        Effect.gen(function*() {
          const port = yield* serverPort
          const net = createNet((yield* Network.Network).driver)
          const client = new WsClient(`ws://127.0.0.1:${port}/ws`, {
            createConnection: (options: object) => net.createConnection(options as never) as unknown as Duplex
          })
          const answers = yield* exchange(client, messages)
          assert.deepStrictEqual(answers.map((a) => a.length), messages.map((m) => m.length))
          assert.deepStrictEqual(answers, messages)
        }).pipe(Effect.provide(Served))
      ))
  })
}

describe("WebSocket upgrades, loopback, Node's global WebSocket", () => {
  it.live("every message echoed, in order", () =>
    Testing.run(
      networks[1].layer(),
      Effect.gen(function*() {
        const port = yield* serverPort
        const answers = yield* exchange(new WebSocket(`ws://127.0.0.1:${port}/ws`), messages)
        assert.deepStrictEqual(answers, messages)
      }).pipe(Effect.provide(Served))
    ))
})
