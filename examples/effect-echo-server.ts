/**
 * A typed echo server: `Server.serve` runs the handler for every connection,
 * with bounded concurrency and a limit on open connections. A client that
 * resets its connection ends only that connection; then a client sends a
 * line, half-closes, and reads the echo back.
 *
 * Run: `node examples/effect-echo-server.ts` (listens on an ephemeral port on
 * 127.0.0.1, talks to itself, exits 0).
 */
import { Network, Server, Socket } from "@sluice/core"
import { NodeNetwork } from "@sluice/node-adapter"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Schedule from "effect/Schedule"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"

/** Echoes every byte until the peer half-closes. Fails with a typed `SocketError`. */
const echo = (socket: Socket.Socket) => Stream.run(socket.reads, socket.writes)

const program = Effect.gen(function*() {
  const server = yield* Network.listen({ host: "127.0.0.1", port: 0 })
  // the defaults a server needs: a peer's reset ends its own connection only,
  // a handler's own failure is logged (with its cause, in the connection's span)
  const serving = yield* Server.serve(server, echo, {
    concurrency: 64, // handlers running at once; the rest wait, unread
    maxConnections: 256 // beyond this, connections are closed as they arrive (node:net's behaviour)
  })
  const port = server.port // a number: the server listens on TCP
  yield* Console.log(`echo server on 127.0.0.1:${port}`)

  // a client that aborts its connection (closing its scope with an interruption sends RST)
  const rude = yield* Scope.make()
  const socket = yield* Network.connect({ host: "127.0.0.1", port }).pipe(Scope.provide(rude))
  yield* socket.write("half a message")
  yield* Scope.close(rude, Exit.interrupt())
  yield* Effect.repeat(serving.stats, { until: (s) => s.disconnected === 1, schedule: Schedule.spaced("5 millis") })
  yield* Console.log("a client reset its connection: the server keeps serving")

  const reply = yield* Effect.scoped(Effect.gen(function*() {
    const client = yield* Network.connect({ host: "127.0.0.1", port, timeout: "2 seconds" })
    yield* client.write("hello, sluice\n")
    yield* client.endOfOutput
    const decoder = new TextDecoder()
    return yield* Stream.runFold(client.reads, () => "", (text, chunk) => text + decoder.decode(chunk))
  }))
  yield* Console.log(`echoed: ${JSON.stringify(reply)}`)
  const stats = yield* serving.stats
  yield* Console.log(
    `served ${stats.accepted} connection(s): ${stats.succeeded} succeeded, ${stats.disconnected} ended by the peer, ${stats.failed} failed`
  )
  if (reply !== "hello, sluice\n") return yield* Effect.die(new Error("unexpected echo"))
  if (stats.succeeded !== 1 || stats.disconnected !== 1) return yield* Effect.die(new Error("unexpected stats"))
})

Effect.runPromise(Effect.scoped(program).pipe(Effect.provide(NodeNetwork.layer))).catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
