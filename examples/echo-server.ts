/**
 * An echo server in Effect style: greet each connection, then send back every
 * byte it receives until the client half-closes.
 *
 * `Server.serve` runs each connection in its own fiber and scope. A client
 * that resets (or times out, or breaks the pipe) ends only its own
 * connection; a handler's own failure is logged with its cause and serving
 * goes on.
 *
 * Run alone: `node examples/echo-server.ts` (listens on port 8124, Ctrl-C stops it).
 */
import { Network, Server, Socket } from "@sluice/core"
import { NodeNetwork } from "@sluice/node-adapter"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"

/** Handles one connection: greet, then echo until the peer ends. */
export const echo = (socket: Socket.Socket) =>
  Effect.gen(function*() {
    yield* Console.log("[server] client connected")
    yield* socket.write("hello\r\n")
    yield* Stream.run(socket.reads, socket.writes)
    yield* Console.log("[server] client disconnected")
  })

/** Listens on `port` (0 = ephemeral) and serves every connection concurrently; returns the server's counters and port. */
export const startEchoServer = (port: number) =>
  Effect.gen(function*() {
    const server = yield* Network.listen({ port })
    const serving = yield* Server.serve(server, echo)
    return { port: server.port, stats: serving.stats }
  })

if (import.meta.main) {
  Effect.gen(function*() {
    const { port } = yield* startEchoServer(8124)
    yield* Console.log(`[server] bound on port ${port}`)
    return yield* Effect.never
  }).pipe(Effect.scoped, Effect.provide(NodeNetwork.layer), Effect.runPromise)
}
