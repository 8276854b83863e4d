/**
 * effect/http's `HttpServer` on a Sluice server: an `effect/http` app served
 * over the connections of the current `Network` — real sockets
 * (`NodeNetwork.layer`) or the memory network, faults included.
 *
 * **Details**
 *
 * Node's HTTP parser does the HTTP: a `node:http` server that never listens
 * receives each connection the Sluice server accepts, as a compat
 * `net.Socket` over it, and `@effect/platform-node`'s request handler runs the
 * app, so requests, responses, streaming bodies, keep-alive, `Expect:
 * 100-continue` and WebSocket upgrades behave as with `NodeHttpServer`. The
 * connections are served by `Server.serve`: its spans, metrics, `concurrency`
 * and `maxConnections` apply, and so does its graceful shutdown — when the
 * scope closes, idle keep-alive connections are closed, responses in flight
 * finish with `Connection: close`, new connections are refused, and what is
 * still open after `gracePeriod` is aborted.
 *
 * Node's own limits apply per connection and are set with the `http` option:
 * `headersTimeout`, `requestTimeout`, `keepAliveTimeout`, `maxHeaderSize`,
 * `connectionsCheckingInterval`, ... The listen option `idleTimeout` is the
 * connections' inactivity timeout (Node's `server.timeout`): a connection
 * silent that long is closed. A malformed request is answered `400` and its
 * connection closed; a peer that resets or stalls ends its own connection
 * only.
 *
 * @example
 * ```ts
 * import { SluiceHttpServer } from "@sluice/http"
 * import { NodeNetwork } from "@sluice/node-adapter"
 * import { Layer } from "effect"
 * import { HttpRouter, HttpServerResponse } from "effect/http"
 *
 * const Hello = HttpRouter.add("GET", "/hello", HttpServerResponse.text("hello"))
 *
 * const Main = HttpRouter.serve(Hello).pipe(
 *   Layer.provide(SluiceHttpServer.layer({ host: "127.0.0.1", port: 8080 })),
 *   Layer.provide(NodeNetwork.layer)
 * )
 * ```
 *
 * @since 0.1.0
 */
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as NodeWS from "@effect/platform-node/NodeWS"
import { fromSocket } from "@sluice/compat/Adopt"
import * as Interop from "@sluice/core/Interop"
import type { ListenError } from "@sluice/core/NetError"
import * as Network from "@sluice/core/Network"
import * as Server from "@sluice/core/Server"
import type * as Socket from "@sluice/core/Socket"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Etag from "effect/http/Etag"
import type * as HttpClient from "effect/http/HttpClient"
import type * as HttpPlatform from "effect/http/HttpPlatform"
import * as HttpServer from "effect/http/HttpServer"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import type * as Http from "node:http"
import { createRequire } from "node:module"
import type { Duplex } from "node:stream"
import * as SluiceHttpClient from "./SluiceHttpClient.ts"

// node:http as CommonJS: its ESM namespace would load undici for its lazy WebSocket exports
const http: typeof Http = createRequire(import.meta.url)("node:http")

/**
 * Options of the HTTP server.
 *
 * @category models
 * @since 0.1.0
 */
export interface Options {
  /**
   * Options of the `node:http` server that parses the requests: its timeouts
   * (`headersTimeout`, default 60 s; `requestTimeout`, default 300 s;
   * `keepAliveTimeout`, default 5 s; `connectionsCheckingInterval`, default
   * 30 s), `maxHeaderSize`, `noDelay` (default on), `keepAlive`,
   * `highWaterMark`, ...
   */
  readonly http?: Http.ServerOptions | undefined
  /**
   * At shutdown, how long open connections may take to finish their
   * responses before they are aborted (default 10 seconds, as `Server.serve`).
   */
  readonly gracePeriod?: Duration.Input | undefined
  /** How many connections are served at once (default `"unbounded"`); the rest wait, unread. */
  readonly concurrency?: number | "unbounded" | undefined
  /** Refuse connections while this many are open (see `Server.serve`). */
  readonly maxConnections?: number | undefined
  /** How a connection beyond `maxConnections` is refused: `"close"` (default, as node:net) or `"reset"`. */
  readonly dropWith?: "close" | "reset" | undefined
}

type RequestHandler = (request: Http.IncomingMessage, response: Http.ServerResponse) => void
type UpgradeHandler = (request: Http.IncomingMessage, socket: Duplex, head: Buffer) => void

/**
 * Listens with the current `Network` and returns an `HttpServer` that serves
 * an app over every accepted connection until the scope closes. Bad listen or
 * serve options fail with a `ListenError` (`InvalidOptions`), a taken address
 * with `AddressInUse`, before anything is served.
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (
  listen: Network.ListenOptions,
  options?: Options
): Effect.Effect<HttpServer.HttpServer["Service"], ListenError, Network.Network | Scope.Scope> =>
  Effect.gen(function*() {
    const network = yield* Network.Network
    const scope = yield* Effect.scope
    const server = yield* network.listen(listen)
    const nodeOptions = options?.http ?? {}
    const httpServer = http.createServer(nodeOptions)
    // the listen option `idleTimeout` (valid: the listen succeeded) is Node's socket inactivity timeout here
    const idle = listen.idleTimeout === undefined ? Option.none() : Duration.fromInput(listen.idleTimeout)
    if (Option.isSome(idle) && Duration.isFinite(idle.value)) httpServer.timeout = Duration.toMillis(idle.value)
    // Node tracks its connections (headersTimeout, requestTimeout,
    // closeIdleConnections) from 'listening' on; this server never listens itself
    httpServer.emit("listening")
    yield* Scope.addFinalizer(scope, Effect.sync(() => httpServer.close()))

    // the app's handlers, once `serve` installs them; requests before that wait for them
    let onRequest: RequestHandler | undefined
    let onUpgrade: UpgradeHandler | undefined
    const waiting: Array<() => void> = []
    let closing = false
    const inFlight = new Set<Http.ServerResponse>()
    const closeIdle = () => httpServer.closeIdleConnections()

    httpServer.on("request", (request: Http.IncomingMessage, response: Http.ServerResponse) => {
      inFlight.add(response)
      response.once("close", () => inFlight.delete(response))
      if (closing) closeAfter(response)
      if (onRequest !== undefined) onRequest(request, response)
      else waiting.push(() => onRequest?.(request, response))
    })
    httpServer.on("upgrade", (request: Http.IncomingMessage, socket: Duplex, head: Buffer) => {
      if (onUpgrade !== undefined) onUpgrade(request, socket, head)
      else waiting.push(() => onUpgrade?.(request, socket, head))
    })

    /** At shutdown: the response's connection closes once it is sent. */
    const closeAfter = (response: Http.ServerResponse) => {
      if (!response.headersSent) response.setHeader("connection", "close")
      response.once("finish", () => setImmediate(closeIdle))
    }

    const wss = yield* Effect.acquireRelease(
      Effect.sync(() => new NodeWS.WebSocketServer({ noServer: true })),
      (wss) => Effect.callback<void>((resume) => wss.close(() => resume(Effect.void)))
    ).pipe(Scope.provide(scope), Effect.cached)

    const adopt = (socket: Socket.Socket) =>
      Effect.callback<void>((resume) => {
        const nodeSocket = fromSocket(socket, {
          allowHalfOpen: true,
          highWaterMark: nodeOptions.highWaterMark,
          noDelay: nodeOptions.noDelay ?? true,
          keepAlive: nodeOptions.keepAlive,
          keepAliveInitialDelay: nodeOptions.keepAliveInitialDelay
        })
        nodeSocket.server = httpServer
        nodeSocket.once("close", () => resume(Effect.void))
        httpServer.emit("connection", nodeSocket)
        // interrupted at the end of the grace period: abort
        return Effect.sync(() => {
          if (!nodeSocket.destroyed) nodeSocket.resetAndDestroy()
        })
      })

    const serving = yield* Server.serve(server, adopt, {
      concurrency: options?.concurrency,
      maxConnections: options?.maxConnections,
      dropWith: options?.dropWith,
      gracePeriod: options?.gracePeriod,
      // the handler cannot fail (a connection's own errors end it); a defect is reported, serving goes on
      onHandlerError: (error) => Effect.logError("HTTP connection handler died", error.cause)
    })

    // graceful shutdown: what Server.serve does, after closing what HTTP keeps open while idle
    const shutdown = yield* Effect.cached(Effect.andThen(
      Effect.sync(() => {
        closing = true
        for (const response of inFlight) closeAfter(response)
        closeIdle()
      }),
      serving.shutdown
    ))
    yield* Scope.addFinalizer(scope, shutdown)

    return HttpServer.make({
      address: Interop.toSocketAddress(server.address),
      serve: (httpApp, middleware) =>
        Effect.gen(function*() {
          const serveScope = yield* Effect.scope
          const handlerScope = Scope.forkUnsafe(serveScope, "parallel")
          const handlerOptions = { scope: handlerScope, middleware: middleware as never }
          onRequest = yield* NodeHttpServer.makeHandler(httpApp, handlerOptions) as Effect.Effect<RequestHandler>
          onUpgrade = yield* NodeHttpServer.makeUpgradeHandler(wss, httpApp, handlerOptions) as Effect.Effect<
            UpgradeHandler
          >
          for (const resume of waiting.splice(0)) resume()
          yield* Scope.addFinalizer(
            serveScope,
            Effect.ensuring(
              shutdown,
              Effect.sync(() => {
                onRequest = undefined
                onUpgrade = undefined
              })
            )
          )
        })
    })
  })

/**
 * A layer providing effect/http's `HttpServer` on a Sluice server listening
 * with the current `Network` (see {@link make}).
 *
 * @category layers
 * @since 0.1.0
 */
export const layerServer = (
  listen: Network.ListenOptions,
  options?: Options
): Layer.Layer<HttpServer.HttpServer, ListenError, Network.Network> =>
  Layer.effect(HttpServer.HttpServer)(make(listen, options))

/**
 * {@link layerServer} with the services an effect/http app needs on Node:
 * `HttpPlatform`, an ETag generator, `FileSystem` and `Path`.
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = (
  listen: Network.ListenOptions,
  options?: Options
): Layer.Layer<
  | HttpServer.HttpServer
  | HttpPlatform.HttpPlatform
  | Etag.Generator
  | Layer.Success<
    typeof NodeHttpServer.layerHttpServices
  >,
  ListenError,
  Network.Network
> => Layer.mergeAll(layerServer(listen, options), NodeHttpServer.layerHttpServices)

/**
 * A server on `127.0.0.1`, an ephemeral port, and an `HttpClient` over
 * Sluice connections whose requests go to it (`client.get("/path")`): for
 * tests, on the memory network or on loopback.
 *
 * @category testing
 * @since 0.1.0
 */
export const layerTest: Layer.Layer<
  | HttpServer.HttpServer
  | HttpPlatform.HttpPlatform
  | Etag.Generator
  | Layer.Success<typeof NodeHttpServer.layerHttpServices>
  | HttpClient.HttpClient,
  ListenError,
  Network.Network
> = HttpServer.layerTestClient.pipe(
  Layer.provide(SluiceHttpClient.layer),
  Layer.provideMerge(layer({ host: "127.0.0.1", port: 0 }))
)
