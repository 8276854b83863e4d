/**
 * What clients cannot do to a SluiceHttpServer, and what a broken connection
 * does to a SluiceHttpClient, on the memory network and on real loopback:
 * garbage is answered 400, a stalled request 408 (Node's headersTimeout),
 * resets mid-request or mid-response end their own connection only — the
 * server keeps answering everyone else; on the client, a reset, a refused
 * connect and (memory network) a partition fail the request with a typed
 * `HttpClientError`.
 */
import { assert, describe, it } from "@effect/vitest"
import * as MemoryNetwork from "@sluice/core/MemoryNetwork"
import * as Testing from "@sluice/core/Testing"
import { SluiceHttpClient, SluiceHttpServer } from "@sluice/http"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as HttpClient from "effect/http/HttpClient"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/testing/TestClock"
import { eventually, makeGate, networks, rawConnect, readAll, served, serverPort } from "./fixtures.ts"

const hello = (name: string) =>
  Effect.gen(function*() {
    const response = yield* (yield* HttpClient.HttpClient).get(`/hello/${name}`)
    return yield* response.text
  })

/** The server still answers, over fresh and kept-alive connections. */
const stillServing = Effect.gen(function*() {
  const answers = yield* Effect.forEach(["a", "b", "c"], hello, { concurrency: 3 })
  assert.deepStrictEqual(answers, ["hello a", "hello b", "hello c"])
})

/** The reason tag and the socket error code of a failed request. */
const transportFailure = (error: unknown) => {
  const e = error as { _tag?: string; reason?: { _tag?: string; cause?: { code?: string } } }
  return { tag: e._tag, reason: e.reason?._tag, code: e.reason?.cause?.code }
}

const timeouts = { http: { headersTimeout: 300, requestTimeout: 600, connectionsCheckingInterval: 50 } }

for (const network of networks) {
  const test = network.live ? it.live : it.effect
  describe(`SluiceHttpServer against hostile clients, ${network.name} network`, () => {
    test("garbage is answered 400 Bad Request and its connection closed; the server goes on", () =>
      Testing.run(
        network.layer(),
        Effect.gen(function*() {
          const port = yield* serverPort
          for (
            const garbage of ["NOT HTTP AT ALL\r\n\r\n", "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n"]
          ) {
            const reply = yield* Effect.scoped(Effect.gen(function*() {
              const socket = yield* rawConnect(port)
              yield* socket.write(garbage)
              return yield* readAll(socket)
            }))
            assert.match(reply.text, /^HTTP\/1\.1 400 Bad Request\r\n/)
          }
          yield* stillServing
        }).pipe(Effect.provide(served(makeGate())))
      ))

    test("a stalled request (headers never finished, or nothing sent) gets 408 and is closed; others are served meanwhile", () =>
      Testing.run(
        network.layer(),
        Effect.gen(function*() {
          const port = yield* serverPort
          const partial = yield* rawConnect(port)
          yield* partial.write("GET /hello/slow HTTP/1.1\r\nHost: x\r\n")
          const silent = yield* rawConnect(port)
          const stalled = yield* Effect.forkChild(Effect.all([readAll(partial), readAll(silent)], { concurrency: 2 }))
          // served while the stalled connections are open (or already timed out, on a slow machine)
          yield* stillServing
          const [partialReply, silentReply] = yield* Fiber.join(stalled)
          assert.match(partialReply.text, /^HTTP\/1\.1 408 Request Timeout\r\n/)
          assert.match(silentReply.text, /^(HTTP\/1\.1 408 Request Timeout\r\n)?/)
          yield* stillServing
        }).pipe(Effect.provide(served(makeGate(), timeouts)))
      ))

    test("resets in the middle of a request or of a response end those connections only", () =>
      Testing.run(
        network.layer(),
        Effect.gen(function*() {
          const port = yield* serverPort
          for (let i = 0; i < 5; i++) {
            // half a request body, then RST
            const scope = yield* Scope.make()
            const socket = yield* Scope.provide(rawConnect(port), scope)
            yield* socket.write("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc")
            yield* Scope.close(scope, Exit.fail("reset"))
          }
          // a large streamed response, read a little, then RST
          const scope = yield* Scope.make()
          const socket = yield* Scope.provide(rawConnect(port), scope)
          yield* socket.write("GET /stream?n=20000 HTTP/1.1\r\nHost: x\r\n\r\n")
          const first = yield* Stream.runHead(socket.reads)
          assert.isTrue(first._tag === "Some")
          yield* Scope.close(scope, Exit.fail("reset"))
          yield* stillServing
        }).pipe(Effect.provide(served(makeGate())))
      ))
  })

  describe(`SluiceHttpClient when the connection breaks, ${network.name} network`, () => {
    test("the server resetting the connection mid-request: TransportError, ECONNRESET", () =>
      Testing.run(
        network.layer(),
        Effect.gen(function*() {
          const client = yield* HttpClient.HttpClient
          const error = yield* Effect.flip(client.get("/reset"))
          assert.deepStrictEqual(transportFailure(error), {
            tag: "HttpClientError",
            reason: "TransportError",
            code: "ECONNRESET"
          })
          yield* stillServing
        }).pipe(Effect.provide(served(makeGate())))
      ))

    test("nobody listening: TransportError, ECONNREFUSED", () =>
      Testing.run(
        network.layer(),
        Effect.gen(function*() {
          const port = yield* Effect.scoped(Effect.provide(serverPort, served(makeGate())))
          const client = yield* HttpClient.HttpClient
          const error = yield* Effect.flip(client.get(`http://127.0.0.1:${port}/hello/x`))
          assert.deepStrictEqual(transportFailure(error), {
            tag: "HttpClientError",
            reason: "TransportError",
            code: "ECONNREFUSED"
          })
        }).pipe(Effect.provide(SluiceHttpClient.layer))
      ))
  })
}

describe("SluiceHttpServer idle connections (memory network, virtual time)", () => {
  it.effect("the listen option idleTimeout closes a connection that goes silent", () =>
    Testing.run(
      Testing.layerMemory(),
      Effect.gen(function*() {
        const port = yield* serverPort
        const silent = yield* rawConnect(port)
        yield* silent.write("GET /hello/x HTTP/1.1\r\nHost: x\r\n")
        const reading = yield* Effect.forkChild(readAll(silent))
        yield* TestClock.adjust("29 seconds")
        yield* eventually(() => true, "a turn of the event loop")
        assert.isUndefined(reading.pollUnsafe(), "closed before its idle timeout")
        yield* TestClock.adjust("2 seconds")
        const reply = yield* Fiber.join(reading)
        assert.strictEqual(reply.text, "")
      }).pipe(Effect.provide(SluiceHttpServer.layer({ host: "127.0.0.1", port: 0, idleTimeout: "30 seconds" })))
    ))
})

describe("SluiceHttpClient across faults of the memory network", () => {
  it.effect("the network resets the connection while the server is answering: TransportError, ECONNRESET", () =>
    Testing.run(
      Testing.layerMemory(),
      Effect.gen(function*() {
        const network = yield* MemoryNetwork.MemoryNetwork
        const gate = makeGate()
        const error = yield* Effect.gen(function*() {
          const client = yield* HttpClient.HttpClient
          const request = yield* Effect.forkChild(Effect.flip(client.get("/gate")))
          yield* eventually(() => gate.arrived === 1, "the request reached the app")
          assert.isAbove(network.reset(), 0)
          return yield* Fiber.join(request)
        }).pipe(Effect.provide(served(gate)))
        assert.deepStrictEqual(transportFailure(error), {
          tag: "HttpClientError",
          reason: "TransportError",
          code: "ECONNRESET"
        })
      })
    ))

  it.effect("a partition under a kept-alive connection: the next request times out with ETIMEDOUT (virtual time)", () =>
    Testing.run(
      Testing.layerMemory({ retransmissionTimeout: 10_000 }),
      Effect.gen(function*() {
        const network = yield* MemoryNetwork.MemoryNetwork
        // the client on a host of its own, so the link can be cut
        const layer = served(makeGate(), undefined, { localAddress: "127.0.0.2" })
        const error = yield* Effect.gen(function*() {
          assert.strictEqual(yield* hello("before"), "hello before")
          network.partition("127.0.0.2", "127.0.0.1")
          const request = yield* Effect.forkChild(Effect.flip(hello("during")))
          for (let i = 0; i < 100 && request.pollUnsafe() === undefined; i++) yield* TestClock.adjust("1 second")
          network.heal()
          return yield* Fiber.join(request)
        }).pipe(Effect.provide(layer))
        assert.deepStrictEqual(transportFailure(error), {
          tag: "HttpClientError",
          reason: "TransportError",
          code: "ETIMEDOUT"
        })
      })
    ))
})
