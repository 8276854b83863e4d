/**
 * A client with a deadline: `timeout` is one deadline over name lookup and
 * every connect attempt. Against a name whose lookup never answers, the
 * connect fails with a typed `ConnectError` (`reason: "TimedOut"`), and
 * nothing stays open. Then a connect that succeeds, with its attempts.
 *
 * Run: `node examples/effect-client-deadline.ts` (exits 0).
 */
import { Network } from "@sluice/core"
import type { Engine } from "@sluice/core"
import { NodeNetwork } from "@sluice/node-adapter"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"

const program = Effect.gen(function*() {
  // a lookup that answers after 10 seconds stands in for an unreachable DNS server
  // (its timer is unref'd: the connect gives up on it, it must not keep the process alive)
  const stuck: Engine.LookupFunction = (_host, _options, callback) => {
    setTimeout(() => callback(undefined, [{ address: "127.0.0.1", family: 4 }]), 10_000).unref()
  }
  const error = yield* Effect.flip(Effect.scoped(
    Network.connect({ host: "db.internal", port: 5432, lookup: stuck, timeout: "200 millis" })
  ))
  yield* Console.log(`${error._tag} (${error.reason}): ${error.message}`)
  if (error.reason !== "TimedOut") return yield* Effect.die(new Error("expected a timeout"))

  // the typed reason drives recovery
  const fallback = yield* Network.connect({ host: "db.internal", port: 5432, lookup: stuck, timeout: "100 millis" })
    .pipe(
      Effect.catchTag("ConnectError", (e) => e.reason === "TimedOut" ? Effect.succeed("fallback") : Effect.fail(e)),
      Effect.scoped
    )
  yield* Console.log(`recovered with: ${typeof fallback === "string" ? fallback : "a socket"}`)

  // a successful connect records every attempt (happy eyeballs over both families)
  yield* Effect.scoped(Effect.gen(function*() {
    const server = yield* Network.listen({ host: "127.0.0.1", port: 0 })
    const socket = yield* Network.connect({ host: "localhost", port: server.port, timeout: "2 seconds" })
    for (const a of socket.attempts) {
      yield* Console.log(`attempt ${a.address} (IPv${a.family}): ${a.outcome} in ${a.durationMs} ms`)
    }
  }))
})

Effect.runPromise(program.pipe(Effect.provide(NodeNetwork.layer))).catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
