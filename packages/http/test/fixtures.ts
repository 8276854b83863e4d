/**
 * The effect/http app the tests serve, the layers that serve it on the
 * current `Network` with a Sluice `HttpClient` aimed at it, and raw-socket
 * helpers for clients that do not speak HTTP politely.
 */
import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import * as Network from "@sluice/core/Network"
import type * as Socket from "@sluice/core/Socket"
import * as Testing from "@sluice/core/Testing"
import { SluiceHttpClient, SluiceHttpServer } from "@sluice/http"
import { NodeDriver } from "@sluice/node-adapter"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as HttpRouter from "effect/http/HttpRouter"
import * as HttpServer from "effect/http/HttpServer"
import * as HttpServerRequest from "effect/http/HttpServerRequest"
import * as HttpServerResponse from "effect/http/HttpServerResponse"
import * as Layer from "effect/Layer"
import * as NetAddress from "effect/net/NetAddress"
import * as Stream from "effect/Stream"

const encoder = new TextEncoder()

/** What the app's `/gate` route waits for, and how many requests reached it. */
export interface Gate {
  readonly open: Deferred.Deferred<void>
  arrived: number
}

export const makeGate = (): Gate => ({ open: Deferred.makeUnsafe<void>(), arrived: 0 })

/**
 * - `GET /hello/:name`: `hello <name>`
 * - `GET /port`: the client's port, as the server's socket sees it
 * - `POST /echo`: the body back, with its length in `x-length`
 * - `GET /stream?n=N`: N chunks of 1 KiB, streamed
 * - `GET /gate`: answers `opened` once the gate opens
 * - `GET /reset`: resets the connection instead of answering
 */
export const app = (gate: Gate) =>
  HttpRouter.addAll([
    HttpRouter.route(
      "GET",
      "/hello/:name",
      Effect.gen(function*() {
        const request = yield* HttpServerRequest.HttpServerRequest
        return HttpServerResponse.text(`hello ${request.url.slice("/hello/".length)}`)
      })
    ),
    HttpRouter.route(
      "GET",
      "/port",
      Effect.gen(function*() {
        const request = yield* HttpServerRequest.HttpServerRequest
        return HttpServerResponse.text(String(NodeHttpServerRequest.toIncomingMessage(request).socket.remotePort))
      })
    ),
    HttpRouter.route(
      "POST",
      "/echo",
      Effect.gen(function*() {
        const request = yield* HttpServerRequest.HttpServerRequest
        const body = new Uint8Array(yield* request.arrayBuffer)
        return HttpServerResponse.uint8Array(body, { headers: { "x-length": String(body.length) } })
      })
    ),
    HttpRouter.route(
      "GET",
      "/stream",
      Effect.gen(function*() {
        const request = yield* HttpServerRequest.HttpServerRequest
        const n = Number(new URL(request.url, "http://x").searchParams.get("n") ?? "1")
        const chunk = encoder.encode("x".repeat(1024))
        return HttpServerResponse.stream(Stream.range(1, n).pipe(Stream.map(() => chunk)))
      })
    ),
    HttpRouter.route(
      "GET",
      "/gate",
      Effect.gen(function*() {
        gate.arrived++
        yield* Deferred.await(gate.open)
        return HttpServerResponse.text("opened")
      })
    ),
    HttpRouter.route(
      "GET",
      "/reset",
      Effect.gen(function*() {
        const request = yield* HttpServerRequest.HttpServerRequest
        NodeHttpServerRequest.toIncomingMessage(request).socket.resetAndDestroy()
        return yield* Effect.never
      })
    )
  ])

/**
 * The app served by `SluiceHttpServer` on `127.0.0.1` (an ephemeral port),
 * and an `HttpClient` over Sluice connections whose requests go to it.
 */
export const served = (gate: Gate, options?: SluiceHttpServer.Options, agent?: SluiceHttpClient.AgentOptions) =>
  Layer.mergeAll(
    HttpRouter.serve(app(gate), { disableLogger: true, disableListenLog: true }),
    HttpServer.layerTestClient.pipe(Layer.provide(SluiceHttpClient.layerOptions(agent)))
  ).pipe(Layer.provideMerge(SluiceHttpServer.layer({ host: "127.0.0.1", port: 0 }, options)))

/** The port the current `HttpServer` listens on. */
export const serverPort = Effect.gen(function*() {
  const address = (yield* HttpServer.HttpServer).address
  if (!NetAddress.isInetAddress(address)) return yield* Effect.die("expected a TCP address")
  return address.port
})

/** The networks the suite runs on: the memory network (virtual time) and real loopback sockets. */
export const networks = [
  { name: "memory", live: false, layer: () => Testing.layerMemory() },
  { name: "node", live: true, layer: () => Testing.layer(NodeDriver.driver) }
] as const

const decoder = new TextDecoder()

/** Everything a socket reads until its peer ends, and the read's error if it failed. */
export const readAll = (socket: Socket.Socket) =>
  Effect.suspend(() => {
    let text = ""
    return Stream.runForEach(socket.reads, (chunk) =>
      Effect.sync(() => {
        text += decoder.decode(chunk)
      })).pipe(Effect.match({
        onSuccess: () => ({ text, error: undefined }),
        onFailure: (error) => ({ text, error })
      }))
  })

/** Waits (polling the event loop, not the clock) until `f()` holds; dies after `ms` of real time. */
export const eventually = (f: () => boolean, what: string, ms = 5000): Effect.Effect<void> =>
  Effect.callback<void>((resume) => {
    const start = Date.now()
    const tick = () => {
      if (f()) resume(Effect.void)
      else if (Date.now() - start > ms) resume(Effect.die(new Error(`timed out waiting for: ${what}`)))
      else setImmediate(tick)
    }
    tick()
  })

/** A raw connection to the server, in the current scope. */
export const rawConnect = (port: number) => Network.connect({ host: "127.0.0.1", port })
