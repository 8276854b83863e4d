/**
 * @sluice/http — effect/http on Sluice: an `HttpServer` on a Sluice server and
 * an `HttpClient` over Sluice connections.
 *
 * @since 0.1.0
 */
export * as SluiceHttpClient from "./SluiceHttpClient.ts"
export * as SluiceHttpServer from "./SluiceHttpServer.ts"
