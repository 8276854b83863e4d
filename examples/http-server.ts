/**
 * `node examples/http-server.ts`: an effect/http app served by
 * `SluiceHttpServer`, called through `SluiceHttpClient` and `fetch`.
 *
 * The same app runs twice: on real loopback sockets (an ephemeral port on
 * 127.0.0.1), and on a memory network that cuts every write into 1–3 byte
 * pieces. Keep-alive reuses one connection for consecutive requests; a
 * request to a port nobody listens on fails with a typed `HttpClientError`.
 * Exits 0 when every check holds.
 */
import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import { MemoryNetwork, type Network } from "@sluice/core"
import { SluiceHttpClient, SluiceHttpServer } from "@sluice/http"
import { NodeNetwork } from "@sluice/node-adapter"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as HttpBody from "effect/http/HttpBody"
import * as HttpClient from "effect/http/HttpClient"
import * as HttpRouter from "effect/http/HttpRouter"
import * as HttpServer from "effect/http/HttpServer"
import * as HttpServerRequest from "effect/http/HttpServerRequest"
import * as HttpServerResponse from "effect/http/HttpServerResponse"
import * as Layer from "effect/Layer"
import * as NetAddress from "effect/net/NetAddress"

// --- the app ----------------------------------------------------------------

const Routes = HttpRouter.addAll([
  HttpRouter.route(
    "GET",
    "/hello/:name",
    Effect.map(HttpRouter.params, (params) => HttpServerResponse.text(`hello ${params["name"] ?? "?"}`))
  ),
  HttpRouter.route(
    "POST",
    "/upper",
    Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      return HttpServerResponse.text((yield* request.text).toUpperCase())
    })
  ),
  // which client port the server sees: the same one while a connection is kept alive
  HttpRouter.route(
    "GET",
    "/port",
    Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      return HttpServerResponse.text(String(NodeHttpServerRequest.toIncomingMessage(request).socket.remotePort))
    })
  )
])

// the app on a Sluice server, and a client aimed at it (`client.get("/path")`)
const Served = HttpRouter.serve(Routes, { disableListenLog: true, disableLogger: true }).pipe(
  Layer.provideMerge(SluiceHttpServer.layerTest)
)

// --- the checks -------------------------------------------------------------

const check = (ok: boolean, what: string) => (ok ? Console.log(`  ok  ${what}`) : Effect.die(`FAILED: ${what}`))

const text = (path: string) =>
  Effect.gen(function*() {
    const response = yield* (yield* HttpClient.HttpClient).get(path)
    return yield* response.text
  })

const exercise = (withFetch: boolean) =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    yield* check((yield* text("/hello/sluice")) === "hello sluice", "GET /hello/sluice")
    const upper = yield* client.post("/upper", { body: HttpBody.text("shout") })
    yield* check((yield* upper.text) === "SHOUT", "POST /upper")
    const ports = new Set([yield* text("/port"), yield* text("/port"), yield* text("/port")])
    yield* check(ports.size === 1, "three requests, one kept-alive connection")
    const missing = yield* client.get("/nowhere")
    yield* check(missing.status === 404, "an unknown route is a 404")
    if (withFetch) {
      const address = (yield* HttpServer.HttpServer).address
      const port = NetAddress.isInetAddress(address) ? address.port : 0
      const body = yield* Effect.promise(() => fetch(`http://127.0.0.1:${port}/hello/fetch`).then((r) => r.text()))
      yield* check(body === "hello fetch", "fetch, a client that knows nothing of Sluice")
    }
  })

const onNetwork = (
  name: string,
  network: Layer.Layer<Network.Network, MemoryNetwork.InvalidOptions>,
  withFetch: boolean
) =>
  Effect.gen(function*() {
    yield* Console.log(name)
    yield* exercise(withFetch).pipe(Effect.provide(Served))
    // the server is gone with its layer: a request now fails with a typed error
    const refused = yield* Effect.flip(
      Effect.provide(text("http://127.0.0.1:1/hello/x"), SluiceHttpClient.layer)
    )
    yield* check(
      refused._tag === "HttpClientError" && refused.reason._tag === "TransportError",
      "nobody listening: TransportError"
    )
  }).pipe(Effect.provide(network))

const program = Effect.gen(function*() {
  yield* onNetwork("real loopback sockets", NodeNetwork.layer, true)
  yield* onNetwork(
    "memory network, every write cut into 1-3 byte pieces",
    MemoryNetwork.layer({ seed: 3, faults: [{ slice: 3 }] }),
    false
  )
})

Effect.runPromise(program).then(
  () => console.log("http: every check passed"),
  (error) => {
    console.error(error)
    process.exit(1)
  }
)
