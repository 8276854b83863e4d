/**
 * Graceful shutdown: closing the server's scope stops accepting, lets running
 * handlers finish within the grace period, and aborts (RST) the rest.
 *
 * A quick handler finishes its reply during the grace period; a subscriber
 * (a long-lived connection, as in a chat) sees shutdown begin and says
 * goodbye; a stuck handler is interrupted when the grace period ends, and its
 * client sees a reset.
 *
 * Run: `node examples/effect-graceful-shutdown.ts` (exits 0).
 */
import { Network, Server, Socket } from "@sluice/core"
import { NodeNetwork } from "@sluice/node-adapter"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Schedule from "effect/Schedule"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"

const decoder = new TextDecoder()
const readAll = (socket: Socket.Socket) =>
  Stream.runFold(socket.reads, () => "", (text, chunk) => text + decoder.decode(chunk))

/**
 * Reads a command: "slow" never finishes; "subscribe" stays until shutdown
 * begins, then says goodbye; anything else is answered once the client ends.
 */
const handler = (socket: Socket.Socket, shutdown: Server.ShutdownSignal) =>
  Effect.gen(function*() {
    const command = decoder.decode((yield* socket.pull)[0])
    if (command === "slow") return yield* Effect.never
    if (command === "subscribe") {
      yield* socket.write("subscribed; ")
      yield* shutdown.await // the server stopped accepting; the grace period runs
      return yield* socket.write("bye, the server is shutting down")
    }
    yield* Stream.runDrain(socket.reads)
    yield* socket.write(`done: ${command}`)
  })

const program = Effect.gen(function*() {
  const serverScope = yield* Scope.make()
  const server = yield* Network.listen({ host: "127.0.0.1", port: 0 }).pipe(Scope.provide(serverScope))
  const port = server.port
  const serving = yield* Server.serve(server, handler, { gracePeriod: "500 millis" }).pipe(Scope.provide(serverScope))

  const quick = yield* Network.connect({ host: "127.0.0.1", port })
  const subscriber = yield* Network.connect({ host: "127.0.0.1", port })
  const slow = yield* Network.connect({ host: "127.0.0.1", port })
  yield* quick.write("quick")
  yield* subscriber.write("subscribe")
  yield* slow.write("slow")
  // the three handlers are running (checked every 5 ms, not in a busy loop)
  yield* Effect.repeat(serving.stats, { until: (s) => s.active === 3, schedule: Schedule.spaced("5 millis") })

  yield* Console.log("shutting down")
  const start = Date.now()
  const shutdown = yield* Effect.forkChild(Scope.close(serverScope, Exit.void))
  // still within the grace period: the quick handler completes its reply
  yield* quick.endOfOutput
  yield* Console.log(`quick client got: ${yield* readAll(quick)}`)
  const farewell = yield* readAll(subscriber)
  yield* Console.log(`subscriber got: ${farewell}`)
  yield* Fiber.join(shutdown)
  const slowEnd = yield* Effect.flip(readAll(slow))
  yield* Console.log(`slow client: ${slowEnd.reason} after ${Date.now() - start} ms`)
  const stats = yield* serving.stats
  yield* Console.log(`succeeded ${stats.succeeded}, aborted ${stats.aborted}`)
  if (stats.succeeded !== 2 || stats.aborted !== 1 || !farewell.endsWith("shutting down")) {
    return yield* Effect.die(new Error("unexpected shutdown"))
  }
})

Effect.runPromise(Effect.scoped(program).pipe(Effect.provide(NodeNetwork.layer))).catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
