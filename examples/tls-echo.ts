/**
 * A TLS echo server and its client, with a certificate made for the run: a
 * throwaway certificate authority issues the server's certificate for
 * localhost (in memory, nothing written to disk), the server serves TLS with
 * `Network.listen({ tls })`, a client that trusts the authority talks to it
 * with `Network.connect({ tls })`, and a client that does not is refused with
 * a typed `CertificateUntrusted` error.
 *
 * Run: `node examples/tls-echo.ts` (listens on an ephemeral port on
 * 127.0.0.1, talks to itself, exits 0).
 */
import { Network, Server, Socket } from "@sluice/core"
import { Certificates, NodeNetwork, NodeTls } from "@sluice/node-adapter"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"

const authority = Certificates.authority({ commonName: "Example CA" })
const certificate = authority.issue({ hosts: ["localhost", "127.0.0.1"] })

const echo = (socket: Socket.Socket) => Stream.run(socket.reads, socket.writes)

const program = Effect.gen(function*() {
  const server = yield* Network.listen({
    host: "127.0.0.1",
    port: 0,
    tls: { key: certificate.key, cert: certificate.cert, alpnProtocols: ["echo/1"] }
  })
  yield* Server.serve(server, echo)
  const port = server.port
  yield* Console.log(`TLS echo server on 127.0.0.1:${port}`)

  const reply = yield* Effect.scoped(Effect.gen(function*() {
    const client = yield* Network.connect({
      host: "127.0.0.1",
      port,
      tls: { ca: authority.cert, servername: "localhost", alpnProtocols: ["echo/1"] }
    })
    const session = client.tls // what the handshake settled (undefined on a plain socket)
    yield* Console.log(
      `${session?.protocol} ${session?.cipher}, ALPN ${session?.alpnProtocol}, `
        + `server certificate ${session?.peerCertificate?.subject} issued by ${session?.peerCertificate?.issuer}`
    )
    yield* client.write("hello, encrypted sluice\n")
    yield* client.endOfOutput // close_notify, then FIN: the echo ends when it has sent everything back
    return yield* Stream.mkString(Stream.decodeText(client.reads))
  }))
  yield* Console.log(`echoed: ${JSON.stringify(reply)}`)

  // a client that does not trust the example authority is refused, typed
  const refused = yield* Effect.flip(Effect.scoped(Network.connect({
    host: "127.0.0.1",
    port,
    tls: { servername: "localhost" }
  })))
  yield* Console.log(`without the authority: ${refused.reason}: ${refused.message}`)

  if (reply !== "hello, encrypted sluice\n") return yield* Effect.die(new Error("unexpected echo"))
  if (refused.reason !== "CertificateUntrusted") return yield* Effect.die(new Error("unexpected refusal"))
})

Effect.runPromise(
  Effect.scoped(program).pipe(Effect.provide(Layer.mergeAll(NodeNetwork.layer, NodeTls.layer)))
).catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
