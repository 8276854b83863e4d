/**
 * effect/http's `HttpClient` over Sluice connections: requests go out through
 * the current `Network` — real sockets (`NodeNetwork.layer`) or the memory
 * network, with its faults.
 *
 * **Details**
 *
 * `@effect/platform-node`'s `node:http` client does the HTTP, with an
 * `http.Agent` whose connections are compat sockets over the `Network`'s
 * driver: keep-alive connections are reused (`keepAlive` is on by default),
 * and a connection that fails mid-request fails the request with an
 * `HttpClientError` whose reason is a `TransportError` (before the response)
 * or a `DecodeError` (while reading its body), its `cause` the socket error
 * with Node's `code` (`ECONNRESET`, `ECONNREFUSED`, `ETIMEDOUT`, ...). Plain
 * `http:` only: an `https:` request fails with a `TransportError`.
 *
 * @example
 * ```ts
 * import { SluiceHttpClient } from "@sluice/http"
 * import { NodeNetwork } from "@sluice/node-adapter"
 * import { Effect, Layer } from "effect"
 * import { HttpClient } from "effect/http"
 *
 * const program = Effect.gen(function*() {
 *   const client = yield* HttpClient.HttpClient
 *   const response = yield* client.get("http://127.0.0.1:8080/hello")
 *   return yield* response.text
 * }).pipe(Effect.provide(SluiceHttpClient.layer.pipe(Layer.provide(NodeNetwork.layer))))
 * ```
 *
 * @since 0.1.0
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { createNet } from "@sluice/compat"
import * as Network from "@sluice/core/Network"
import * as Effect from "effect/Effect"
import type * as HttpClient from "effect/http/HttpClient"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import type * as Http from "node:http"
import type * as Https from "node:https"
import { createRequire } from "node:module"
import type { Duplex } from "node:stream"

// CommonJS: the ESM namespaces of node:http(s) would load undici for their lazy WebSocket exports
const require = createRequire(import.meta.url)
const http: typeof Http = require("node:http")
const https: typeof Https = require("node:https")

/**
 * Options of the client's `http.Agent` (`keepAlive` defaults to `true`;
 * `maxSockets`, `maxFreeSockets`, `timeout`, `scheduling`, ...).
 *
 * @category models
 * @since 0.1.0
 */
export type AgentOptions = Http.AgentOptions

/**
 * The agents of `@effect/platform-node`'s `node:http` client, with every
 * connection opened through the current `Network`; destroyed with the scope.
 *
 * @category constructors
 * @since 0.1.0
 */
export const makeAgent = (
  options?: AgentOptions
): Effect.Effect<NodeHttpClient.HttpAgent["Service"], never, Network.Network | Scope.Scope> =>
  Effect.gen(function*() {
    const network = yield* Network.Network
    const net = createNet(network.driver)
    const agentOptions: AgentOptions = { keepAlive: true, ...options }
    const agent = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const agent = new http.Agent(agentOptions)
        agent.createConnection = (connectOptions) =>
          // compat's Socket is a stream.Duplex with node:net's API
          net.createConnection(connectOptions as Parameters<typeof net.createConnection>[0]) as unknown as Duplex
        return agent
      }),
      (agent) => Effect.sync(() => agent.destroy())
    )
    const secure = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const agent = new https.Agent(agentOptions)
        agent.createConnection = (_options, callback) => {
          callback?.(new Error("https is not supported over Sluice connections yet"), undefined as never)
          return undefined
        }
        return agent
      }),
      (agent) => Effect.sync(() => agent.destroy())
    )
    return { http: agent, https: secure }
  })

/**
 * A layer providing the `HttpAgent` of `@effect/platform-node`'s `node:http`
 * client over the current `Network`.
 *
 * @category layers
 * @since 0.1.0
 */
export const layerAgent = (options?: AgentOptions): Layer.Layer<NodeHttpClient.HttpAgent, never, Network.Network> =>
  Layer.effect(NodeHttpClient.HttpAgent)(makeAgent(options))

/**
 * effect/http's `HttpClient` over Sluice connections, with the agent's
 * options.
 *
 * @category layers
 * @since 0.1.0
 */
export const layerOptions = (options?: AgentOptions): Layer.Layer<HttpClient.HttpClient, never, Network.Network> =>
  Layer.provide(NodeHttpClient.layerNodeHttpNoAgent, layerAgent(options))

/**
 * effect/http's `HttpClient` over Sluice connections (keep-alive on).
 *
 * @category layers
 * @since 0.1.0
 */
export const layer: Layer.Layer<HttpClient.HttpClient, never, Network.Network> = layerOptions()
