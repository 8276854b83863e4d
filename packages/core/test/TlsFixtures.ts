/**
 * Certificates and small helpers of the TLS tests. Every key and certificate
 * is generated when the tests load (`Certificates`, in memory): none is
 * committed.
 */
import type * as Driver from "@sluice/core/Driver"
import * as Network from "@sluice/core/Network"
import * as Server from "@sluice/core/Server"
import type * as Socket from "@sluice/core/Socket"
import type * as Tls from "@sluice/core/Tls"
import * as Certificates from "@sluice/node-adapter/Certificates"
import * as NodeTls from "@sluice/node-adapter/NodeTls"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { tcpPort, text, utf8 } from "./helpers.ts"

const day = 86_400_000

/**
 * The codes a TLS library reports for a case: OpenSSL's on Node; Bun's TLS
 * names a few cases its own way (the behaviour suite also runs there, see
 * the node adapter's Runtimes test).
 */
export const codes = (openssl: string, ...others: ReadonlyArray<string>): ReadonlyArray<string> =>
  "Bun" in globalThis || "Deno" in globalThis ? [openssl, ...others] : [openssl]

export const ca = Certificates.authority()
export const otherCa = Certificates.authority({ commonName: "Other Test CA" })
/** For localhost, 127.0.0.1 and ::1, by `ca`. */
export const leaf = ca.issue()
/** For api.test only. */
export const api = ca.issue({ hosts: ["api.test"] })
/** For every name under wild.test. */
export const wild = ca.issue({ hosts: ["*.wild.test"] })
export const expired = ca.issue({ notBefore: new Date(Date.now() - 3 * day), notAfter: new Date(Date.now() - day) })
export const notYetValid = ca.issue({ notBefore: new Date(Date.now() + day), notAfter: new Date(Date.now() + 3 * day) })
export const selfSigned = Certificates.selfSigned()
/** The same names as `leaf`, by a CA the clients do not trust. */
export const foreign = otherCa.issue()
/** Client certificates (mutual TLS). */
export const client = ca.issue({ hosts: [], commonName: "client one" })
export const foreignClient = otherCa.issue({ hosts: [], commonName: "intruder" })

/** The server side of `leaf`. */
export const serverTls: Tls.ServerOptions = { key: leaf.key, cert: leaf.cert }
/** A client that trusts `ca` and expects localhost. */
export const clientTls: Tls.ClientOptions = { ca: ca.cert, servername: "localhost" }

/** Runs a body on `driver` with TLS provided (`NodeTls.layer`) and its own scope. */
export const runTls = <A, E>(driver: Driver.Driver, body: Effect.Effect<A, E, Network.Network | Scope.Scope>) =>
  body.pipe(Effect.scoped, Effect.provide(Network.layer(driver)), Effect.provide(NodeTls.layer))

/** Reads everything until the peer's end, as text. */
export const readText = (socket: Socket.Socket) => Effect.map(Stream.runCollect(socket.reads), text)

export const echo = (socket: Socket.Socket) => Stream.run(socket.reads, socket.writes)

/** A TLS server on `host` serving `handler` (echo by default), and its port. */
export const tlsServer = (
  host: string,
  tls: Tls.ServerOptions = serverTls,
  handler: (socket: Socket.Socket) => Effect.Effect<unknown, unknown> = echo,
  options: Network.ListenOptions = {}
) =>
  Effect.gen(function*() {
    const server = yield* Network.listen({ host, port: 0, ...options, tls })
    const serving = yield* Server.serve(server, handler, { gracePeriod: 0, onHandlerError: () => Effect.void })
    return { server, serving, port: tcpPort(server.address) }
  })

/** Connects with TLS, writes `message`, half-closes and reads the answer. */
export const exchange = (port: number, host: string, tls: Tls.ClientOptions, message = "ping") =>
  Effect.scoped(Effect.gen(function*() {
    const socket = yield* Network.connect({ host, port, tls })
    yield* socket.write(utf8(message))
    yield* socket.endOfOutput
    return { answer: yield* readText(socket), session: socket.tls }
  }))
