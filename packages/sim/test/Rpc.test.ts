/**
 * An effect/rpc client and server on two simulated hosts, under a seeded
 * sweep of link latency and resets of the server's connections: every
 * request either succeeds exactly once (the server handled it once and the
 * answer is its own), or fails with the typed error a reset implies (an
 * `RpcClientError` whose reason is the socket's read or write error, with
 * the Sluice `ConnectionReset` inside) — and only in a run that had a reset.
 */
import { assert, describe, it } from "@effect/vitest"
import { Interop, NetError } from "@sluice/core"
import { Simulation } from "@sluice/sim"
import { Context, Effect, Exit, Layer, Schema } from "effect"
import { Rpc, RpcClient, RpcClientError, RpcGroup, RpcSerialization, RpcServer } from "effect/rpc"
import { Socket } from "effect/socket"
import * as fc from "fast-check"

const Api = RpcGroup.make(Rpc.make("Echo", { payload: { n: Schema.Number }, success: Schema.Number }))

class EchoClient extends Context.Service<EchoClient, RpcClient.FromGroup<typeof Api, RpcClientError.RpcClientError>>()(
  "test/EchoClient"
) {}

const serverLayer = (handled: Map<number, number>) =>
  RpcServer.layer(Api).pipe(
    Layer.provide(Api.toLayer({
      Echo: ({ n }) => Effect.sync(() => (handled.set(n, (handled.get(n) ?? 0) + 1), n))
    })),
    Layer.provide(RpcServer.layerProtocolSocketServer),
    Layer.provide(Interop.layerSocketServer({ port: 7000 })),
    Layer.provide(RpcSerialization.layerNdjson)
  )

const clientLayer = Layer.effect(EchoClient)(RpcClient.make(Api)).pipe(
  Layer.provide(RpcClient.layerProtocolSocket()),
  Layer.provide(Layer.effect(Socket.Socket)(Interop.makeEffectSocket({ host: "server", port: 7000 }))),
  Layer.provide(RpcSerialization.layerNdjson)
)

interface Case {
  readonly seed: number
  readonly latency: number
  /** Virtual milliseconds after the first request when the network resets the server's connections, if it does. */
  readonly resetAt: number | undefined
  readonly requests: number
}

/** Whether `error` is what a reset of the connection makes of a call in flight. */
const isResetFailure = (error: unknown): boolean =>
  error instanceof RpcClientError.RpcClientError
  && (error.reason._tag === "SocketReadError" || error.reason._tag === "SocketWriteError")
  && error.reason.cause instanceof NetError.SocketError && error.reason.cause.reason === "ConnectionReset"

const scenario = (c: Case) =>
  Simulation.run({ hosts: ["client", "server"], seed: c.seed }, (sim) =>
    Effect.gen(function*() {
      const handled = new Map<number, number>()
      yield* sim.start("server", serverLayer(handled))
      if (c.latency > 0) yield* sim.link("client", "server", { latency: c.latency })
      const client = yield* sim.start("client", clientLayer)
      const calls = client.use(Effect.gen(function*() {
        const echo = yield* EchoClient
        return yield* Effect.forEach(
          Array.from({ length: c.requests }, (_, n) => n),
          (n) => Effect.exit(Effect.andThen(Effect.sleep(n * 10), echo.Echo({ n }))),
          { concurrency: "unbounded" }
        )
      }))
      const reset = c.resetAt === undefined
        ? Effect.void
        : Effect.andThen(Effect.sleep(c.resetAt), sim.resetConnections("server"))
      const [exits] = yield* sim.drive(Effect.all([calls, reset], { concurrency: "unbounded" }), "1 minute")
      return { exits, handled }
    }))

const check = (c: Case) =>
  Effect.gen(function*() {
    const { exits, handled } = yield* scenario(c)
    exits.forEach((exit, n) => {
      if (Exit.isSuccess(exit)) {
        assert.strictEqual(exit.value, n)
        assert.strictEqual(handled.get(n), 1, `request ${n} succeeded but was handled ${handled.get(n) ?? 0} times`)
      } else {
        assert.isDefined(c.resetAt, `request ${n} failed without a fault: ${exit.cause}`)
        const error = exit.cause.reasons.find((r) => r._tag === "Fail")
        assert.isDefined(error, `request ${n} failed without a typed error: ${exit.cause}`)
        assert.isTrue(isResetFailure(error!._tag === "Fail" ? error!.error : undefined), String(exit.cause))
        assert.isAtMost(handled.get(n) ?? 0, 1)
      }
    })
    return exits.filter(Exit.isFailure).length
  })

const caseArbitrary = fc.record({
  seed: fc.integer({ min: 1, max: 1_000_000 }),
  latency: fc.constantFrom(0, 1, 5, 20, 80),
  resetAt: fc.option(fc.integer({ min: 0, max: 200 }), { nil: undefined }),
  requests: fc.integer({ min: 1, max: 12 })
})

describe("effect/rpc on simulated hosts", () => {
  it.effect("without faults every request succeeds exactly once", () =>
    Effect.gen(function*() {
      const failed = yield* check({ seed: 1, latency: 20, resetAt: undefined, requests: 10 })
      assert.strictEqual(failed, 0)
    }))

  it.effect("a reset in flight fails the calls it cuts with ConnectionReset, and only those", () =>
    Effect.gen(function*() {
      const failed = yield* check({ seed: 2, latency: 20, resetAt: 25, requests: 10 })
      assert.isAbove(failed, 0)
    }))

  it.live(
    "seeded sweep over latency and resets: exactly once, or the reset's typed error",
    () =>
      Effect.promise(() =>
        fc.assert(fc.asyncProperty(caseArbitrary, (c) => Effect.runPromise(Effect.asVoid(check(c)))), {
          numRuns: 40,
          seed: 18
        })
      ),
    60_000
  )
})
