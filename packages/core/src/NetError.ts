/**
 * Typed network errors.
 *
 * Every failure of a connect, listen, read or write is one of three wrappers —
 * {@link ConnectError}, {@link ListenError}, {@link SocketError} — whose
 * `reason` tells the kind ({@link Reason}), classified from the errno `code`
 * once, in the engine, for every driver. Each error carries `code`, `errno`,
 * `syscall`, `address`, `port` and the native `cause` where there is one.
 *
 * A clean end of input is not an error: a socket's `reads` stream just ends.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import type { DriverError } from "./Driver.ts"
import { errnoOf, errnoTable } from "./Errno.ts"

/**
 * The TLS codes Sluice classifies (OpenSSL's verification codes as Node
 * reports them, Node's `ERR_TLS_*` and `ERR_SSL_*` codes), with what each
 * means for a person.
 */
const tlsCodes: Readonly<Record<string, readonly [reason: Reason, meaning: string]>> = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: ["CertificateUntrusted", "the certificate is not signed by a trusted authority"],
  UNABLE_TO_GET_ISSUER_CERT: ["CertificateUntrusted", "the certificate's issuer is unknown"],
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: ["CertificateUntrusted", "the certificate's issuer is not a trusted authority"],
  SELF_SIGNED_CERT_IN_CHAIN: ["CertificateUntrusted", "the chain ends in a self-signed certificate nobody trusts"],
  DEPTH_ZERO_SELF_SIGNED_CERT: ["CertificateUntrusted", "the certificate is self-signed and not trusted"],
  CERT_UNTRUSTED: ["CertificateUntrusted", "the certificate is not trusted"],
  CERT_REJECTED: ["CertificateUntrusted", "the certificate was rejected"],
  CERT_REVOKED: ["CertificateUntrusted", "the certificate was revoked"],
  CERT_SIGNATURE_FAILURE: ["CertificateUntrusted", "the certificate's signature is invalid"],
  INVALID_CA: ["CertificateUntrusted", "an issuer in the chain is not a certificate authority"],
  INVALID_PURPOSE: ["CertificateUntrusted", "the certificate is not meant for this use"],
  ERR_SSL_TLSV1_ALERT_UNKNOWN_CA: ["CertificateUntrusted", "the peer does not trust our certificate's issuer"],
  ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE: ["CertificateUntrusted", "the peer rejected our certificate"],
  CERT_HAS_EXPIRED: ["CertificateExpired", "the certificate has expired"],
  CERT_NOT_YET_VALID: ["CertificateExpired", "the certificate is not valid yet"],
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED: ["CertificateExpired", "the peer says our certificate has expired"],
  ERR_TLS_CERT_ALTNAME_INVALID: ["HostnameMismatch", "the certificate is not for the name connected to"],
  ERR_SSL_WRONG_VERSION_NUMBER: ["ProtocolMismatch", "the peer does not speak TLS, or not a version we accept"],
  ERR_SSL_HTTP_REQUEST: ["ProtocolMismatch", "the peer sent plain HTTP to a TLS port"],
  ERR_SSL_PACKET_LENGTH_TOO_LONG: ["ProtocolMismatch", "the peer does not speak TLS"],
  ERR_SSL_UNSUPPORTED_PROTOCOL: ["ProtocolMismatch", "no TLS version in common with the peer"],
  ERR_SSL_NO_PROTOCOLS_AVAILABLE: ["ProtocolMismatch", "no TLS version is allowed by the options"],
  ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION: ["ProtocolMismatch", "the peer refused our TLS version"],
  ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL: ["ProtocolMismatch", "no ALPN protocol in common with the peer"],
  ERR_SSL_NO_APPLICATION_PROTOCOL: ["ProtocolMismatch", "the peer offered no ALPN protocol we accept"],
  ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE: ["HandshakeFailed", "the peer aborted the TLS handshake"],
  ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED: ["HandshakeFailed", "the peer requires a client certificate"],
  ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE: [
    "HandshakeFailed",
    "the peer sent no certificate although one is required"
  ],
  ERR_TLS_HANDSHAKE_TIMEOUT: ["TimedOut", "the TLS handshake did not finish in time"]
}

/**
 * The kinds of network failure.
 *
 * @category models
 * @since 0.1.0
 */
export const Reason = Schema.Literals([
  "ConnectionRefused",
  "AddressInUse",
  "AddressNotAvailable",
  "HostNotFound",
  "TimedOut",
  "ConnectionReset",
  "ConnectionAborted",
  "BrokenPipe",
  "AccessDenied",
  "NetworkUnreachable",
  "HostUnreachable",
  "NotFound",
  "TooManyOpenFiles",
  "InvalidOptions",
  "Unsupported",
  "Closed",
  "CertificateUntrusted",
  "CertificateExpired",
  "HostnameMismatch",
  "ProtocolMismatch",
  "HandshakeFailed",
  "Unknown"
])

/**
 * A kind of network failure (`"ConnectionRefused"`, `"TimedOut"`, ...).
 *
 * The TLS kinds: `CertificateUntrusted` (the peer's certificate does not chain
 * to a trusted authority), `CertificateExpired` (outside its validity period),
 * `HostnameMismatch` (issued for another name, or refused by a custom
 * identity check), `ProtocolMismatch` (no TLS version or ALPN protocol in
 * common, or the peer does not speak TLS at all), `HandshakeFailed` (any other
 * TLS alert or failure); a handshake that does not finish in time is
 * `TimedOut` with the code `ERR_TLS_HANDSHAKE_TIMEOUT`.
 *
 * @category models
 * @since 0.1.0
 */
export type Reason = typeof Reason.Type

const reasonByCode: Readonly<Record<string, Reason>> = {
  ECONNREFUSED: "ConnectionRefused",
  EADDRINUSE: "AddressInUse",
  EADDRNOTAVAIL: "AddressNotAvailable",
  ENOTFOUND: "HostNotFound",
  EAI_NODATA: "HostNotFound",
  EAI_NONAME: "HostNotFound",
  EAI_AGAIN: "HostNotFound",
  EAI_FAIL: "HostNotFound",
  ETIMEDOUT: "TimedOut",
  ECONNRESET: "ConnectionReset",
  ECONNABORTED: "ConnectionAborted",
  EPIPE: "BrokenPipe",
  EACCES: "AccessDenied",
  EPERM: "AccessDenied",
  ENETUNREACH: "NetworkUnreachable",
  ENETDOWN: "NetworkUnreachable",
  EHOSTUNREACH: "HostUnreachable",
  ENOENT: "NotFound",
  ENOTDIR: "NotFound",
  EMFILE: "TooManyOpenFiles",
  ENFILE: "TooManyOpenFiles",
  EINVAL: "InvalidOptions",
  ERR_INVALID_ARG_VALUE: "InvalidOptions",
  ENOTSUP: "Unsupported",
  EAFNOSUPPORT: "Unsupported",
  ERR_SOCKET_CLOSED: "Closed",
  ...Object.fromEntries(Object.entries(tlsCodes).map(([code, [reason]]) => [code, reason]))
}

/** Any other OpenSSL or Node TLS code is a failed handshake (an alert, a malformed record, ...). */
const tlsPrefix = /^ERR_(SSL|TLS|OSSL)_/

/**
 * Classifies an errno-style code (`"ECONNREFUSED"`) into a {@link Reason}.
 *
 * @example
 * ```ts
 * import { NetError } from "@sluice/core"
 *
 * NetError.classify("ECONNRESET") // "ConnectionReset"
 * ```
 *
 * @category classification
 * @since 0.1.0
 */
export const classify = (code: string): Reason =>
  reasonByCode[code] ?? (tlsPrefix.test(code) ? "HandshakeFailed" : "Unknown")

/**
 * One connect attempt, as recorded on a {@link ConnectError} and on a
 * connected socket: the address tried, its family, how it ended, how long it
 * took, and the errno code when it failed.
 *
 * @category models
 * @since 0.1.0
 */
export const ConnectAttempt = Schema.Struct({
  address: Schema.String,
  port: Schema.Number,
  family: Schema.Literals([4, 6]),
  outcome: Schema.Literals(["connected", "failed", "timedOut", "cancelled"]),
  code: Schema.optional(Schema.String),
  durationMs: Schema.Number
})

/**
 * One connect attempt (see the {@link ConnectAttempt} schema).
 *
 * @category models
 * @since 0.1.0
 */
export type ConnectAttempt = typeof ConnectAttempt.Type

const fields = {
  reason: Reason,
  code: Schema.String,
  errno: Schema.optional(Schema.Number),
  syscall: Schema.String,
  address: Schema.optional(Schema.String),
  port: Schema.optional(Schema.Number),
  detail: Schema.optional(Schema.String),
  cause: Schema.optional(Schema.Defect())
}

type Fields = Schema.Struct.Type<typeof fields>

/**
 * `connect ECONNREFUSED 127.0.0.1:80 (connection refused)`, then the detail:
 * the errno line Node prints, followed by what it means for a person.
 */
const describe = (e: Fields): string => {
  const where = e.address === undefined ? "" : e.port === undefined ? ` ${e.address}` : ` ${e.address}:${e.port}`
  const meaning = errnoTable[e.code]?.[1] ?? tlsCodes[e.code]?.[1]
  const base = `${e.syscall} ${e.code}${where}${meaning === undefined ? "" : ` (${meaning})`}`
  return e.detail === undefined ? base : `${base}: ${e.detail}`
}

/**
 * Opening a connection failed: name lookup, every connect attempt, or the
 * connect deadline.
 *
 * @category errors
 * @since 0.1.0
 */
export class ConnectError extends Schema.TaggedError<ConnectError>()("ConnectError", {
  ...fields,
  /** Every connect attempt, in order (empty when name lookup failed). */
  attempts: Schema.optional(Schema.Array(ConnectAttempt))
}) {
  override get message(): string {
    return describe(this)
  }
}

/**
 * Binding or listening failed (`AddressInUse`, `AccessDenied`, ...).
 *
 * @category errors
 * @since 0.1.0
 */
export class ListenError extends Schema.TaggedError<ListenError>()("ListenError", fields) {
  override get message(): string {
    return describe(this)
  }
}

/**
 * A live connection failed while reading or writing, or hit its idle timeout
 * (`reason: "TimedOut"`).
 *
 * @category errors
 * @since 0.1.0
 */
export class SocketError extends Schema.TaggedError<SocketError>()("SocketError", fields) {
  override get message(): string {
    return describe(this)
  }
}

/**
 * Any network error.
 *
 * @category models
 * @since 0.1.0
 */
export type NetError = ConnectError | ListenError | SocketError

/**
 * The fields of an error built from a driver failure.
 *
 * @category constructors
 * @since 0.1.0
 */
export const fieldsFromDriver = (error: DriverError, detail?: string): Fields => ({
  reason: classify(error.code),
  code: error.code,
  errno: error.errno ?? errnoOf(error.code),
  syscall: error.syscall,
  address: error.address,
  // node:net reports port -1 for local sockets: no port at all, for a person
  port: error.port !== undefined && error.port >= 0 ? error.port : undefined,
  detail,
  cause: error.cause
})

/**
 * Builds the fields of an `InvalidOptions` error naming the offending field and value.
 *
 * @category constructors
 * @since 0.1.0
 */
export const invalidOptions = (syscall: string, detail: string): Fields => ({
  reason: "InvalidOptions",
  code: "EINVAL",
  errno: errnoOf("EINVAL"),
  syscall,
  detail
})

/**
 * Builds the fields of an `Unsupported` error: the driver lacks a capability.
 *
 * @category constructors
 * @since 0.1.0
 */
export const unsupported = (syscall: string, detail: string): Fields => ({
  reason: "Unsupported",
  code: "ENOTSUP",
  errno: errnoOf("ENOTSUP"),
  syscall,
  detail
})
