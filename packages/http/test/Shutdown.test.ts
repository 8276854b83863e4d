/**
 * Graceful shutdown of a SluiceHttpServer, as `Server.serve`'s: when its
 * scope closes, idle keep-alive connections close at once, a response in
 * flight finishes (with `Connection: close`), new connections are refused,
 * and what is still open at the end of the grace period is aborted. On the
 * memory network under `TestClock` (the grace period in virtual time) and on
 * real loopback.
 */
import { assert, describe, it } from "@effect/vitest"
import type { ConnectError } from "@sluice/core/NetError"
import * as Network from "@sluice/core/Network"
import * as Testing from "@sluice/core/Testing"
import { SluiceHttpClient, SluiceHttpServer } from "@sluice/http"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as HttpClient from "effect/http/HttpClient"
import * as HttpRouter from "effect/http/HttpRouter"
import * as Layer from "effect/Layer"
import * as Scope from "effect/Scope"
import * as TestClock from "effect/testing/TestClock"
import { app, eventually, type Gate, makeGate, networks, serverPort } from "./fixtures.ts"

/** The server alone, built in `scope` (the client lives outside it, so that closing it leaves the client be). */
const startServer = (gate: Gate, options: SluiceHttpServer.Options, scope: Scope.Scope) =>
  Effect.gen(function*() {
    const context = yield* Layer.buildWithScope(
      HttpRouter.serve(app(gate), { disableLogger: true, disableListenLog: true }).pipe(
        Layer.provideMerge(SluiceHttpServer.layer({ host: "127.0.0.1", port: 0 }, options))
      ),
      scope
    )
    return yield* Effect.provideContext(serverPort, context)
  })

const get = (port: number, path: string) =>
  Effect.gen(function*() {
    const response = yield* (yield* HttpClient.HttpClient).get(`http://127.0.0.1:${port}${path}`)
    return { status: response.status, connection: response.headers["connection"], body: yield* response.text }
  })

/** Connects until the server refuses (it stopped accepting); the refusal. */
const refusal = (port: number) =>
  Effect.gen(function*() {
    for (let i = 0; i < 1000; i++) {
      const exit = yield* Effect.exit(Effect.scoped(Network.connect({ host: "127.0.0.1", port })))
      if (Exit.isFailure(exit)) return yield* Effect.flip(exit)
      yield* Effect.yieldNow
    }
    return yield* Effect.die("the server kept accepting")
  }) as Effect.Effect<ConnectError, never, Network.Network>

for (const network of networks) {
  const test = network.live ? it.live : it.effect
  describe(`SluiceHttpServer shutdown, ${network.name} network`, () => {
    test("idle keep-alive connections close at once; a response in flight finishes with Connection: close; new connections are refused", () =>
      Testing.run(
        network.layer(),
        Effect.gen(function*() {
          const gate = makeGate()
          const scope = yield* Scope.make()
          const port = yield* startServer(gate, { gracePeriod: "1 hour" }, scope)
          // a kept-alive, now idle connection
          assert.deepStrictEqual(yield* get(port, "/hello/idle"), {
            status: 200,
            connection: "keep-alive",
            body: "hello idle"
          })
          const inFlight = yield* Effect.forkChild(get(port, "/gate"))
          yield* eventually(() => gate.arrived === 1, "the request reached the app")

          const closing = yield* Effect.forkChild(Scope.close(scope, Exit.void))
          const refused = yield* refusal(port)
          assert.strictEqual(refused.reason, "ConnectionRefused")
          assert.isUndefined(closing.pollUnsafe(), "shutdown did not wait for the response in flight")

          yield* Deferred.succeed(gate.open, undefined)
          assert.deepStrictEqual(yield* Fiber.join(inFlight), { status: 200, connection: "close", body: "opened" })
          // done without the grace period (an hour): nothing was left open
          yield* Fiber.join(closing)
        }).pipe(Effect.provide(SluiceHttpClient.layer))
      ))

    test("a response still running at the end of the grace period is aborted", () =>
      Testing.run(
        network.layer(),
        Effect.gen(function*() {
          const gate = makeGate()
          const scope = yield* Scope.make()
          const port = yield* startServer(gate, { gracePeriod: network.live ? "200 millis" : "5 seconds" }, scope)
          const request = yield* Effect.forkChild(Effect.flip(get(port, "/gate")))
          yield* eventually(() => gate.arrived === 1, "the request reached the app")
          const closing = yield* Effect.forkChild(Scope.close(scope, Exit.void))
          if (!network.live) {
            yield* TestClock.adjust("4 seconds")
            yield* eventually(() => true, "a turn of the event loop")
            assert.isUndefined(closing.pollUnsafe(), "shutdown ended before the grace period")
            assert.isUndefined(request.pollUnsafe(), "the request ended before the grace period")
            yield* TestClock.adjust("2 seconds")
          }
          yield* Fiber.join(closing)
          const error = (yield* Fiber.join(request)) as { reason?: { _tag?: string; cause?: { code?: string } } }
          assert.strictEqual(error.reason?._tag, "TransportError")
          assert.strictEqual(error.reason?.cause?.code, "ECONNRESET")
        }).pipe(Effect.provide(SluiceHttpClient.layer))
      ))
  })
}
