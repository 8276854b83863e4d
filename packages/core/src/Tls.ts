/**
 * TLS on the Effect face: encrypted client sockets (`Network.connect` with
 * `tls`), TLS servers (`Network.listen` with `tls`) and STARTTLS
 * ({@link upgrade}, {@link upgradeServer}), on every driver.
 *
 * **TLS is a capability a layer supplies.** This module defines what a TLS
 * session needs — the options of each side ({@link ClientOptions},
 * {@link ServerOptions}), what a handshake settles ({@link Session}, with the
 * peer's {@link Certificate} as plain data), the typed reasons of a failure
 * (in `NetError`: `CertificateUntrusted`, `CertificateExpired`,
 * `HostnameMismatch`, `ProtocolMismatch`, `HandshakeFailed`, and `TimedOut`
 * for a handshake deadline) — and the service a provider implements
 * ({@link Tls}). `NodeTls.layer` (`@sluice/node-adapter`, over `node:tls`)
 * provides it. Without a provider in context, TLS answers `Unsupported`.
 *
 * **A TLS handle over the connection's handle.** A provider wraps a
 * connected driver `Handle` — of any driver: real sockets, the memory network
 * — in a {@link SecureHandle}: itself a `Handle`, whose reads and writes carry
 * plaintext while the ciphertext goes through the handle it wraps. The
 * engine's `Connection` runs over it unchanged, so an encrypted connection is
 * a connection: half-close (`endOfOutput` sends close_notify, then FIN),
 * graceful close, abort (RST), idle timeouts, deadlines, `maxConnections`,
 * byte counters (of plaintext) and error classification keep their meaning
 * on both faces, and the engine has no TLS case. This was chosen over TLS as
 * a driver feature (every driver would need its own TLS, and the memory
 * network could not test it) and over TLS as a stage of each face (each face
 * would implement half-close and timeouts again above it). How the provider
 * drives its library is its own business: the node adapter puts Node's native
 * TLS stream straight on a real socket's libuv handle, as
 * `tls.connect({ socket })` does for a `net.Socket`, and goes through a
 * JavaScript stream only over other handles (the memory network).
 *
 * @example
 * ```ts
 * import { Network } from "@sluice/core"
 * import { NodeNetwork, NodeTls } from "@sluice/node-adapter"
 * import { Effect, Layer, Stream } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const socket = yield* Network.connect({ host: "example.com", port: 443, tls: { alpnProtocols: ["http/1.1"] } })
 *   console.log(socket.tls?.protocol, socket.tls?.alpnProtocol) // "TLSv1.3" "http/1.1"
 *   yield* socket.write("GET / HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n")
 *   return yield* Stream.mkString(Stream.decodeText(socket.reads))
 * }).pipe(Effect.scoped, Effect.provide(Layer.mergeAll(NodeNetwork.layer, NodeTls.layer)))
 * ```
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { dual } from "effect/Function"
import * as Option from "effect/Option"
import { isIP } from "./Address.ts"
import type { DriverError, Handle } from "./Driver.ts"
import { handshakeFields, runHandshake, secureHandleTypeId } from "./internal/handshake.ts"
import { checkClient, checkServer } from "./internal/tlsOptions.ts"
import { invalidOptions, SocketError, unsupported } from "./NetError.ts"
import * as Socket from "./Socket.ts"

/**
 * A certificate, key or authority: PEM text, or DER bytes.
 *
 * @category models
 * @since 0.1.0
 */
export type Pem = string | Uint8Array

/**
 * A TLS protocol version.
 *
 * @category models
 * @since 0.1.0
 */
export type Version = "TLSv1" | "TLSv1.1" | "TLSv1.2" | "TLSv1.3"

/**
 * A certificate as plain data.
 *
 * @category models
 * @since 0.1.0
 */
export interface Certificate {
  /** The subject's distinguished name, one attribute per line (`"CN=localhost"`). */
  readonly subject: string
  /** The issuer's distinguished name, one attribute per line. */
  readonly issuer: string
  /** The subject alternative names (`"DNS:localhost, IP Address:127.0.0.1"`), when there are any. */
  readonly subjectAltName: string | undefined
  readonly validFrom: Date
  readonly validTo: Date
  /** Hexadecimal, upper case. */
  readonly serialNumber: string
  /** SHA-256 of the DER encoding, as colon-separated hexadecimal pairs. */
  readonly fingerprint256: string
  /** Whether it is a certificate authority's. */
  readonly ca: boolean
  /** The DER encoding. */
  readonly raw: Uint8Array
}

/**
 * What a handshake settled.
 *
 * @category models
 * @since 0.1.0
 */
export interface Session {
  /** The protocol version (`"TLSv1.3"`). */
  readonly protocol: string
  /** The cipher suite, by its standard name (`"TLS_AES_256_GCM_SHA384"`). */
  readonly cipher: string
  /** The ALPN protocol both ends agreed on, when ALPN was used. */
  readonly alpnProtocol: string | undefined
  /** The server name (SNI) the client asked for. */
  readonly servername: string | undefined
  /**
   * Whether the peer's certificate was verified: always on a client that
   * rejects unauthorized servers (the default), and on a server that
   * requested a client certificate and got a valid one.
   */
  readonly authorized: boolean
  /** Why the peer is not authorized (an OpenSSL code such as `"DEPTH_ZERO_SELF_SIGNED_CERT"`), when it is not. */
  readonly authorizationError: string | undefined
  /** The peer's certificate, when it sent one. */
  readonly peerCertificate: Certificate | undefined
  /** Whether an earlier session was resumed. */
  readonly resumed: boolean
}

/**
 * The TLS options of a client: `Network.connect`'s `tls` option, and
 * {@link upgrade}'s.
 *
 * @category models
 * @since 0.1.0
 */
export interface ClientOptions {
  /**
   * The server name sent in SNI and checked against the server's certificate.
   * Default: the host connected to, when it is a name; an IP address is
   * checked against the certificate's IP addresses and sent no SNI.
   */
  readonly servername?: string | undefined
  /** The authorities to trust (default: the platform's trusted roots). */
  readonly ca?: Pem | ReadonlyArray<Pem> | undefined
  /** A client certificate (mutual TLS), with its `key`. */
  readonly cert?: Pem | ReadonlyArray<Pem> | undefined
  /** The private key of `cert`. */
  readonly key?: Pem | ReadonlyArray<Pem> | undefined
  /** The passphrase of an encrypted `key`. */
  readonly passphrase?: string | undefined
  /**
   * Refuse a server whose certificate is not trusted or not for the server
   * name (default `true`). With `false` the connection opens anyway, and
   * `Session.authorized` says whether it should be trusted.
   */
  readonly rejectUnauthorized?: boolean | undefined
  /** The lowest protocol version accepted (default: the platform's, TLSv1.2 on Node). */
  readonly minVersion?: Version | undefined
  /** The highest protocol version offered (default: the highest the platform has). */
  readonly maxVersion?: Version | undefined
  /** The cipher suites offered, in OpenSSL's format (default: the platform's). */
  readonly ciphers?: string | undefined
  /** The ALPN protocols offered, in order of preference (`["h2", "http/1.1"]`). */
  readonly alpnProtocols?: ReadonlyArray<string> | undefined
  /**
   * Replaces the check of the server's certificate against the server name
   * (the chain of trust is still verified): returns why the certificate is
   * refused, or `undefined` to accept it. A refusal fails with
   * `HostnameMismatch` (`ERR_TLS_CERT_ALTNAME_INVALID`) carrying the reason.
   */
  readonly checkServerIdentity?: ((servername: string, certificate: Certificate) => string | undefined) | undefined
  /**
   * How long the handshake may take. `Network.connect`'s `timeout` bounds it
   * too (its one deadline covers the handshake); default: no other bound.
   */
  readonly handshakeTimeout?: Duration.Input | undefined
}

/**
 * A key and the certificate (chain) it goes with.
 *
 * @category models
 * @since 0.1.0
 */
export interface Credentials {
  readonly key: Pem | ReadonlyArray<Pem>
  /** The certificate, or the chain (leaf first). */
  readonly cert: Pem | ReadonlyArray<Pem>
  /** The passphrase of an encrypted `key`. */
  readonly passphrase?: string | undefined
  /** The authorities that client certificates must chain to (with `requestCert`). */
  readonly ca?: Pem | ReadonlyArray<Pem> | undefined
}

/**
 * The TLS options of a server: `Network.listen`'s `tls` option, and
 * {@link upgradeServer}'s.
 *
 * @category models
 * @since 0.1.0
 */
export interface ServerOptions extends Credentials {
  /** Ask clients for a certificate (mutual TLS; default `false`), verified against `ca`. */
  readonly requestCert?: boolean | undefined
  /**
   * With `requestCert`, refuse a client without a valid certificate (default
   * `true`): its handshake fails. With `false` it is accepted, and
   * `Session.authorized` tells.
   */
  readonly rejectUnauthorized?: boolean | undefined
  /** The ALPN protocols accepted, in order of preference; a client offering none of them is refused. */
  readonly alpnProtocols?: ReadonlyArray<string> | undefined
  /**
   * Credentials per server name asked for in SNI (`"api.example.com"`, or a
   * wildcard `"*.example.com"`); clients asking for another name, or none,
   * get `key` and `cert`.
   */
  readonly sni?: Readonly<Record<string, Credentials>> | undefined
  readonly minVersion?: Version | undefined
  readonly maxVersion?: Version | undefined
  readonly ciphers?: string | undefined
  /**
   * How long a client may take to complete its handshake before the
   * connection is dropped and counted as failed (default 120 seconds, as
   * Node's `tls.Server`).
   */
  readonly handshakeTimeout?: Duration.Input | undefined
}

/**
 * Checked client options, as a provider receives them.
 *
 * @category provider
 * @since 0.1.0
 */
export type ClientSettings = Omit<ClientOptions, "handshakeTimeout">

/**
 * Checked server options, as a provider receives them.
 *
 * @category provider
 * @since 0.1.0
 */
export type ServerSettings = Omit<ServerOptions, "handshakeTimeout">

/**
 * The key that marks a handle as a {@link SecureHandle}.
 *
 * @category provider
 * @since 0.1.0
 */
export const SecureHandleTypeId: typeof secureHandleTypeId = secureHandleTypeId

/**
 * One end of a TLS session over a connected handle: a driver `Handle`
 * carrying plaintext, under the driver's contract (callbacks never throw,
 * errors are `DriverError`s, `bind` may come before the handshake). The
 * handle it wraps belongs to it: closing or resetting this one releases it.
 *
 * @category provider
 * @since 0.1.0
 */
export interface SecureHandle extends Handle {
  readonly [SecureHandleTypeId]: typeof SecureHandleTypeId
  /**
   * Runs the handshake, once. `callback` runs once, on a later turn, when it
   * succeeded or failed (with the TLS library's code: `CERT_HAS_EXPIRED`,
   * `ERR_SSL_WRONG_VERSION_NUMBER`, ... and its message as `cause`), and never
   * after `close` or `reset`. After a failure, `close` or `reset` releases
   * what is left. No plaintext is delivered before it succeeded.
   */
  handshake(callback: (error: DriverError | undefined) => void): void
  /** What the handshake settled, once it succeeded. */
  readonly session: Session | undefined
}

/**
 * Who a client expects to talk to.
 *
 * @category provider
 * @since 0.1.0
 */
export interface ClientPeer {
  /** The name sent in SNI, if any. */
  readonly servername: string | undefined
  /** The name (or IP address) the server's certificate must be for. */
  readonly identity: string
}

/**
 * A client's TLS configuration, prepared once per connect (trusted
 * authorities parsed, client certificate loaded).
 *
 * @category provider
 * @since 0.1.0
 */
export interface ClientContext {
  readonly _tag: "ClientContext"
  /**
   * Wraps a connected handle as the client end of a session. `unread` are
   * bytes already read from `inner` that belong to the session (STARTTLS).
   */
  readonly wrap: (inner: Handle, peer: ClientPeer, unread: ReadonlyArray<Uint8Array>) => SecureHandle
}

/**
 * A server's TLS configuration, prepared once per listener.
 *
 * @category provider
 * @since 0.1.0
 */
export interface ServerContext {
  readonly _tag: "ServerContext"
  /** Wraps an accepted handle as the server end of a session (`unread` as for {@link ClientContext}). */
  readonly wrap: (inner: Handle, unread: ReadonlyArray<Uint8Array>) => SecureHandle
}

/**
 * Options a provider refuses (a key that does not parse, a certificate that
 * does not match its key), with what is wrong.
 *
 * @category provider
 * @since 0.1.0
 */
export interface Refused {
  readonly _tag: "Refused"
  readonly detail: string
}

/**
 * What a TLS provider does.
 *
 * @category provider
 * @since 0.1.0
 */
export interface TlsShape {
  readonly name: string
  readonly client: (settings: ClientSettings) => ClientContext | Refused
  readonly server: (settings: ServerSettings) => ServerContext | Refused
}

/**
 * The TLS capability. Provided by `NodeTls.layer`; without it, TLS fails
 * with `Unsupported`.
 *
 * @category services
 * @since 0.1.0
 */
export class Tls extends Context.Service<Tls, TlsShape>()("@sluice/core/Tls") {}

/**
 * The detail of the `Unsupported` error TLS answers without a provider.
 *
 * @category provider
 * @since 0.1.0
 */
export const noProvider = "TLS needs a provider in context: provide NodeTls.layer from @sluice/node-adapter"

/**
 * The options of {@link upgrade}: the client's TLS options, and bytes your code
 * already read from the socket that belong to the TLS session.
 *
 * @category models
 * @since 0.1.0
 */
export interface UpgradeOptions extends ClientOptions {
  /**
   * Bytes read from the socket past the plaintext exchange (a parser's
   * leftover) that are the start of the TLS session. Bytes the socket holds
   * unread are handed over anyway.
   */
  readonly unread?: Uint8Array | ReadonlyArray<Uint8Array> | undefined
}

/**
 * The options of {@link upgradeServer}.
 *
 * @category models
 * @since 0.1.0
 */
export interface UpgradeServerOptions extends ServerOptions {
  /** As {@link UpgradeOptions.unread}. */
  readonly unread?: Uint8Array | ReadonlyArray<Uint8Array> | undefined
}

/** The bytes of an `unread` option, or `undefined` when it is not bytes. */
const unreadOf = (u: unknown): ReadonlyArray<Uint8Array> | undefined =>
  u === undefined
    ? []
    : u instanceof Uint8Array
    ? [u]
    : Array.isArray(u) && u.every((c) => c instanceof Uint8Array)
    ? u
    : undefined

const upgradeWith = (
  socket: Socket.Socket,
  syscall: string,
  options: UpgradeOptions | UpgradeServerOptions,
  wrap: (
    tls: TlsShape,
    rest: Record<string, unknown>
  ) => {
    readonly secure: (inner: Handle, unread: ReadonlyArray<Uint8Array>) => SecureHandle
    readonly ms: number | undefined
  } | string
): Effect.Effect<Socket.Socket, SocketError> =>
  Effect.flatMap(Effect.serviceOption(Tls), (provider) =>
    Effect.suspend(() => {
      if (Option.isNone(provider)) return Effect.fail(new SocketError(unsupported(syscall, noProvider)))
      const { unread, ...rest } = (typeof options === "object" && options !== null ? options : {}) as UpgradeOptions
      const appUnread = unreadOf(unread)
      if (appUnread === undefined) {
        return Effect.fail(new SocketError(invalidOptions(syscall, "unread: expected bytes or an array of bytes")))
      }
      const plan = wrap(provider.value, rest)
      if (typeof plan === "string") return Effect.fail(new SocketError(invalidOptions(syscall, plan)))
      const handed = Socket.handOver(socket)
      if (handed instanceof SocketError) return Effect.fail(handed)
      const connection = socket.connection
      const secure = plan.secure(connection.handle, [...appUnread, ...handed.unread])
      connection.replaceHandle(secure)
      return Effect.callback<Socket.Socket, SocketError>((resume) => {
        let settled = false
        const cancel = runHandshake(
          connection.driver.timers,
          secure,
          plan.ms,
          () => connection.remoteEndpoint(),
          (error) => {
            if (settled) return
            settled = true
            if (error === undefined) {
              handed.resume()
              resume(Effect.succeed(socket))
            } else {
              // the socket fails as a connection fails: reads and writes report it
              connection.onError(error)
              connection.close()
              resume(Effect.fail(new SocketError(handshakeFields(error))))
            }
          }
        )
        connection.onClose(() => {
          if (settled) return
          settled = true
          cancel()
          resume(Effect.fail(
            new SocketError({
              reason: "Closed",
              code: "ERR_SOCKET_CLOSED",
              syscall,
              detail: "the connection closed during the TLS handshake"
            })
          ))
        })
        return Effect.sync(() => {
          if (settled) return
          settled = true
          cancel()
          connection.reset()
        })
      })
    }))

/**
 * STARTTLS, client side: upgrades a connected plain socket to TLS in place
 * and returns it, encrypted (the same socket: `reads`, `writes` and its
 * scope go on, now carrying plaintext over TLS; `socket.tls` has the
 * session). Bytes the socket read and nobody pulled yet belong to the
 * session, and so do the `unread` bytes your code hands back.
 *
 * **Details**
 *
 * Call it between reads, once the plaintext exchange that asks for TLS is
 * over (SMTP's `220` to `STARTTLS`, PostgreSQL's `S` to `SSLRequest`). The
 * server name checked against the certificate is `servername`, else the
 * socket's remote address. A failed handshake fails with a `SocketError`
 * (`CertificateUntrusted`, `HostnameMismatch`, ..., or `TimedOut` past
 * `handshakeTimeout`) and leaves the socket failed and closed; interrupting
 * the upgrade aborts the connection. Without a TLS provider in context it
 * fails with `Unsupported`.
 *
 * **Example** (SMTP)
 *
 * ```ts
 * import { Effect } from "effect"
 * import type { Socket } from "@sluice/core"
 * import { Tls } from "@sluice/core"
 *
 * declare const expectLine: (socket: Socket.Socket, code: string) => Effect.Effect<void>
 *
 * const startTls = (plain: Socket.Socket) =>
 *   Effect.gen(function*() {
 *     yield* plain.write("STARTTLS\r\n")
 *     yield* expectLine(plain, "220")
 *     return yield* Tls.upgrade(plain, { servername: "mail.example.com" })
 *   })
 * ```
 *
 * @category STARTTLS
 * @since 0.1.0
 */
export const upgrade: {
  (options: UpgradeOptions): (socket: Socket.Socket) => Effect.Effect<Socket.Socket, SocketError>
  (socket: Socket.Socket, options: UpgradeOptions): Effect.Effect<Socket.Socket, SocketError>
} = dual(
  2,
  (socket: Socket.Socket, options: UpgradeOptions): Effect.Effect<Socket.Socket, SocketError> =>
    upgradeWith(socket, "upgrade", options, (tls, rest) => {
      const checked = checkClient(rest, "")
      if (typeof checked === "string") return checked
      const context = tls.client(checked.settings)
      if (context._tag === "Refused") return context.detail
      const remote = socket.remoteAddress
      const address = remote?._tag === "Tcp" ? remote.address : "localhost"
      const servername = checked.settings.servername
      const peer: ClientPeer = { servername, identity: servername ?? address }
      return {
        secure: (inner, unread) => context.wrap(inner, peer, unread),
        ms: checked.handshakeTimeoutMs
      }
    })
)

/**
 * STARTTLS, server side: upgrades an accepted plain socket to TLS in place,
 * once the client asked for it (and was told yes), and returns it encrypted.
 * As {@link upgrade}: bytes already read belong to the session, a failed
 * handshake fails with a `SocketError` and closes the socket, the handshake
 * is bounded by `handshakeTimeout` (default 120 seconds).
 *
 * @category STARTTLS
 * @since 0.1.0
 */
export const upgradeServer: {
  (options: UpgradeServerOptions): (socket: Socket.Socket) => Effect.Effect<Socket.Socket, SocketError>
  (socket: Socket.Socket, options: UpgradeServerOptions): Effect.Effect<Socket.Socket, SocketError>
} = dual(
  2,
  (socket: Socket.Socket, options: UpgradeServerOptions): Effect.Effect<Socket.Socket, SocketError> =>
    upgradeWith(socket, "upgrade", options, (tls, rest) => {
      const checked = checkServer(rest, "")
      if (typeof checked === "string") return checked
      const context = tls.server(checked.settings)
      if (context._tag === "Refused") return context.detail
      return { secure: (inner, unread) => context.wrap(inner, unread), ms: checked.handshakeTimeoutMs }
    })
)

/**
 * The server name a client sends in SNI by default: the host, when it is a
 * name rather than an IP address.
 *
 * @category provider
 * @since 0.1.0
 */
export const defaultServername = (host: string): string | undefined => isIP(host) === 0 ? host : undefined
