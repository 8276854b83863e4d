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
  "Unknown"
])

/**
 * A kind of network failure (`"ConnectionRefused"`, `"TimedOut"`, ...).
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
  ERR_SOCKET_CLOSED: "Closed"
}

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
export const classify = (code: string): Reason => reasonByCode[code] ?? "Unknown"

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
  const meaning = errnoTable[e.code]?.[1]
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
