/**
 * `npm start`: the Effect-style echo server (examples/echo-server.ts) and the
 * client from Node's documentation — with `require('node:net')` replaced
 * by `@sluice/compat` — talking on an ephemeral loopback port. Both run on
 * Sluice's one engine. First a client that resets its connection mid-way:
 * the server keeps serving. Prints a transcript and exits 0.
 */
import net from "@sluice/compat"
import { NodeNetwork } from "@sluice/node-adapter"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { startEchoServer } from "./echo-server.ts"

/** A client that aborts its connection (RST) once greeted; resolves when it closed. */
const resettingClient = (port: number) =>
  new Promise<void>((resolve) => {
    const client = net.createConnection({ port }, () => console.log("[rude client] connected"))
    client.once("data", () => {
      console.log("[rude client] greeted, resetting the connection")
      client.resetAndDestroy()
    })
    client.on("close", () => resolve())
  })

/** The client of Node's documentation, verbatim but for the port; resolves when it closed. */
const documentationClient = (port: number) =>
  new Promise<void>((resolve, reject) => {
    const client = net.createConnection({ port }, () => {
      // 'connect' listener.
      console.log("[client] connected to server!")
      client.write("world!\r\n")
    })
    client.on("data", (data) => {
      console.log(`[client] ${JSON.stringify(data.toString())}`)
      client.end()
    })
    client.on("end", () => {
      console.log("[client] disconnected from server")
    })
    client.on("error", reject)
    client.on("close", () => resolve())
  })

const main = Effect.gen(function*() {
  const { port, stats } = yield* startEchoServer(0)
  yield* Console.log(`[server] bound on an ephemeral port (${port})`)
  // a client that resets ends only its own connection: the server keeps serving
  yield* Effect.promise(() => resettingClient(port))
  yield* Effect.promise(() => documentationClient(port))
  const { succeeded } = yield* stats
  if (succeeded !== 1) return yield* Effect.die(new Error(`expected 1 connection served, got ${succeeded}`))
  yield* Console.log("[main] done: closing the server scope")
})

Effect.runPromise(main.pipe(Effect.scoped, Effect.provide(NodeNetwork.layer))).then(
  () => process.exit(0),
  (error) => {
    console.error(error)
    process.exit(1)
  }
)
