/**
 * A typed echo server: `Server.serve` runs the handler for every connection,
 * with bounded concurrency and a limit on open connections. A client sends a
 * line, half-closes, and reads the echo back.
 *
 * Run: `node examples/effect-echo-server.ts` (listens on an ephemeral port on
 * 127.0.0.1, talks to itself, exits 0).
 */
import { Network, Server, Socket } from "@sluice/core"
import { NodeNetwork } from "@sluice/node-adapter"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"

/** Echoes every byte until the peer half-closes. Fails with a typed `SocketError`. */
const echo = (socket: Socket.Socket) => Stream.run(socket.reads, socket.writes)

const program = Effect.gen(function*() {
  const server = yield* Network.listen({ host: "127.0.0.1", port: 0 })
  const serving = yield* Server.serve(server, echo, {
    concurrency: 64,
    maxConnections: 256,
    // report failed connections, keep serving
    onHandlerError: (error) => Console.error(`handler failed: ${error.message}`)
  })
  const port = server.address._tag === "Tcp" ? server.address.port : 0
  yield* Console.log(`echo server on 127.0.0.1:${port}`)

  const reply = yield* Effect.scoped(Effect.gen(function*() {
    const client = yield* Network.connect({ host: "127.0.0.1", port, timeout: "2 seconds" })
    yield* client.write("hello, sluice\n")
    yield* client.endOfOutput
    const decoder = new TextDecoder()
    return yield* Stream.runFold(client.reads, () => "", (text, chunk) => text + decoder.decode(chunk))
  }))
  yield* Console.log(`echoed: ${JSON.stringify(reply)}`)
  const stats = yield* serving.stats
  yield* Console.log(`served ${stats.accepted} connection(s), ${stats.failed} failed`)
  if (reply !== "hello, sluice\n") return yield* Effect.die(new Error("unexpected echo"))
})

Effect.runPromise(Effect.scoped(program).pipe(Effect.provide(NodeNetwork.layer))).catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
