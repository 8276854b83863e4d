/**
 * An effect/http app served by `SluiceHttpServer` and called through
 * `SluiceHttpClient`, on the memory network (virtual time) and on real
 * loopback sockets: GET, a 1 MiB POST, a streamed response, keep-alive reuse;
 * on real sockets also through `fetch` and Node's own `http`. Every test
 * checks that nothing stays open (`Testing.run`).
 */
import { assert, describe, it } from "@effect/vitest"
import * as Testing from "@sluice/core/Testing"
import { SluiceHttpServer } from "@sluice/http"
import { NodeDriver } from "@sluice/node-adapter"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as HttpBody from "effect/http/HttpBody"
import * as HttpClient from "effect/http/HttpClient"
import * as Layer from "effect/Layer"
import * as TestClock from "effect/testing/TestClock"
import * as http from "node:http"
import { makeGate, networks, served, serverPort } from "./fixtures.ts"

const decoder = new TextDecoder()

const text = (path: string) =>
  Effect.gen(function*() {
    const response = yield* (yield* HttpClient.HttpClient).get(path)
    return { status: response.status, body: yield* response.text }
  })

const bytes = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + 3) & 0xff)

for (const network of networks) {
  const test = network.live ? it.live : it.effect
  describe(`SluiceHttpServer on the ${network.name} network`, () => {
    test("serves GET, a 1 MiB POST and a streamed response; keep-alive reuses one connection", () =>
      Testing.run(
        network.layer(),
        Effect.gen(function*() {
          const client = yield* HttpClient.HttpClient
          assert.deepStrictEqual(yield* text("/hello/world"), { status: 200, body: "hello world" })

          // one connection for every request: the server sees the same client port each time
          const ports = yield* Effect.forEach([1, 2, 3, 4, 5], () => Effect.map(text("/port"), (r) => r.body))
          assert.strictEqual(new Set(ports).size, 1, `ports: ${ports.join(", ")}`)
          assert.isTrue(Number(ports[0]) > 0)

          const body = bytes(1 << 20)
          const echo = yield* client.post("/echo", { body: HttpBody.uint8Array(body) })
          assert.strictEqual(echo.status, 200)
          assert.strictEqual(echo.headers["x-length"], String(body.length))
          const back = new Uint8Array(yield* echo.arrayBuffer)
          assert.strictEqual(back.length, body.length)
          assert.isTrue(back.every((b, i) => b === body[i]), "the echo differs")

          const streamed = yield* client.get("/stream?n=300")
          assert.strictEqual(streamed.headers["transfer-encoding"], "chunked")
          assert.strictEqual((yield* streamed.arrayBuffer).byteLength, 300 * 1024)

          // still the one connection
          assert.deepStrictEqual((yield* text("/port")).body, ports[0])
        }).pipe(Effect.provide(served(makeGate())))
      ))

    test("many concurrent clients, each request answered once and right", () =>
      Testing.run(
        network.layer(),
        Effect.gen(function*() {
          const answers = yield* Effect.forEach(
            Array.from({ length: 40 }, (_, i) => i),
            (i) => Effect.map(text(`/hello/${i}`), (r) => r.body),
            { concurrency: 20 }
          )
          assert.deepStrictEqual(answers, answers.map((_, i) => `hello ${i}`))
        }).pipe(Effect.provide(served(makeGate())))
      ))

    test("bad options and a taken address are typed ListenErrors", () =>
      Testing.run(
        network.layer(),
        Effect.gen(function*() {
          const bad = yield* Effect.flip(
            Layer.build(SluiceHttpServer.layer({ host: "127.0.0.1", port: 0 }, { gracePeriod: -1 }))
          )
          assert.strictEqual(bad._tag, "ListenError")
          assert.strictEqual(bad.reason, "InvalidOptions")
          const port = yield* serverPort
          const taken = yield* Effect.flip(Layer.build(SluiceHttpServer.layer({ host: "127.0.0.1", port })))
          assert.strictEqual(taken.reason, "AddressInUse")
        }).pipe(Effect.provide(served(makeGate())))
      ))
  })
}

describe("SluiceHttpServer on a faulty memory network", () => {
  it.effect("every write cut into 1..7-byte pieces: requests and responses arrive whole", () =>
    Testing.run(
      Testing.layerMemory({ seed: 11, faults: [{ slice: 7 }] }),
      Effect.gen(function*() {
        const client = yield* HttpClient.HttpClient
        assert.deepStrictEqual(yield* text("/hello/sliced"), { status: 200, body: "hello sliced" })
        const body = bytes(20_000)
        const echo = yield* client.post("/echo", { body: HttpBody.uint8Array(body) })
        const back = new Uint8Array(yield* echo.arrayBuffer)
        assert.isTrue(back.length === body.length && back.every((b, i) => b === body[i]), "the echo differs")
      }).pipe(Effect.provide(served(makeGate())))
    ))

  it.effect("200 ms of latency each way: a request takes its round trips in virtual time, none in real time", () =>
    Testing.run(
      Testing.layerMemory({ faults: [{ latency: 200 }] }),
      Effect.gen(function*() {
        const wall = Date.now()
        const start = yield* Clock.currentTimeMillis
        const fiber = yield* Effect.forkChild(text("/hello/far"))
        for (let i = 0; i < 1000 && fiber.pollUnsafe() === undefined; i++) yield* TestClock.adjust("10 millis")
        assert.deepStrictEqual(yield* Fiber.join(fiber), { status: 200, body: "hello far" })
        // the handshake, the request and the response: at least two round trips
        assert.isAtLeast((yield* Clock.currentTimeMillis) - start, 800)
        assert.isBelow(Date.now() - wall, 5000)
      }).pipe(Effect.provide(served(makeGate())))
    ))
})

const nodeGet = (port: number, path: string) =>
  Effect.callback<{ status: number; body: string }, Error>((resume) => {
    const request = http.get({ host: "127.0.0.1", port, path, agent: false }, (response) => {
      let body = ""
      response.on("data", (chunk: Buffer) => (body += decoder.decode(chunk)))
      response.on("end", () => resume(Effect.succeed({ status: response.statusCode ?? 0, body })))
    })
    request.on("error", (error) => resume(Effect.fail(error)))
  })

describe("SluiceHttpServer on real sockets, other clients", () => {
  it.live("fetch and Node's http client get the same answers", () =>
    Testing.run(
      Testing.layer(NodeDriver.driver),
      Effect.gen(function*() {
        const port = yield* serverPort
        const viaFetch = yield* Effect.promise(async () => {
          const response = await fetch(`http://127.0.0.1:${port}/hello/fetch`)
          return { status: response.status, body: await response.text() }
        })
        assert.deepStrictEqual(viaFetch, { status: 200, body: "hello fetch" })
        const posted = yield* Effect.promise(async () => {
          const response = await fetch(`http://127.0.0.1:${port}/echo`, { method: "POST", body: "ping" })
          return await response.text()
        })
        assert.strictEqual(posted, "ping")
        assert.deepStrictEqual(yield* nodeGet(port, "/hello/node"), { status: 200, body: "hello node" })
        assert.deepStrictEqual(yield* nodeGet(port, "/missing"), { status: 404, body: "" })
      }).pipe(Effect.provide(served(makeGate())))
    ))
})
