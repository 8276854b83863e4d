/**
 * The engine side of a TLS handshake: its deadline on the driver's clock,
 * the error fields of a failure, and the handshakes a TLS server has in
 * flight. Shared by `Network` (connect and listen with `tls`) and `Tls`
 * (STARTTLS); the cryptography is the provider's (see `Tls.ts`).
 */
import type { Driver, DriverError, Endpoint, Handle, Timers } from "../Driver.ts"
import type { Connection } from "../Engine.ts"
import { fieldsFromDriver } from "../NetError.ts"
import type { ServerContext, Session } from "../Tls.ts"

/** The key that marks a handle as a TLS layer (`Tls.SecureHandle`). */
export const secureHandleTypeId: "~@sluice/core/Tls/SecureHandle" = "~@sluice/core/Tls/SecureHandle"

/** What a TLS handle looks like to the engine side. */
interface Secure extends Handle {
  readonly [secureHandleTypeId]: typeof secureHandleTypeId
  handshake(callback: (error: DriverError | undefined) => void): void
  readonly session: Session | undefined
}

/** `true` when the handle is a TLS layer. */
export const isSecure = (handle: Handle): handle is Secure => secureHandleTypeId in handle

/** What the handshake of the handle settled, when it is a TLS layer that completed one. */
export const sessionOf = (handle: Handle): Session | undefined => isSecure(handle) ? handle.session : undefined

/** The peer's address and port, for the error of a failed handshake. */
const where = (remote: Endpoint | undefined): { address?: string; port?: number } =>
  remote === undefined
    ? {}
    : remote._tag === "Tcp"
    ? { address: remote.address, port: remote.port }
    : { address: remote.path }

/**
 * Runs the handshake of `handle` under a deadline of `timeoutMs` on the
 * driver's clock (none when `undefined`): `callback` runs once, with the
 * provider's error, or `ERR_TLS_HANDSHAKE_TIMEOUT` when the deadline comes
 * first (`detail` says which deadline). The returned function cancels: the
 * callback then never runs. After a failure or a cancel, the caller releases
 * the handle.
 */
export const runHandshake = (
  timers: Timers,
  handle: Secure,
  timeoutMs: number | undefined,
  remote: () => Endpoint | undefined,
  callback: (error: DriverError | undefined) => void,
  detail?: string
): () => void => {
  let done = false
  let cancelTimer: (() => void) | undefined
  if (timeoutMs !== undefined) {
    cancelTimer = timers.schedule(timeoutMs, () => {
      if (done) return
      done = true
      callback({
        code: "ERR_TLS_HANDSHAKE_TIMEOUT",
        syscall: "handshake",
        ...where(remote()),
        cause: detail ?? `no TLS handshake within ${timeoutMs} ms`
      })
    })
  }
  handle.handshake((error) => {
    if (done) return
    done = true
    cancelTimer?.()
    if (error === undefined) return callback(undefined)
    const peer = where(remote())
    callback({ ...error, address: error.address ?? peer.address, port: error.port ?? peer.port })
  })
  return () => {
    done = true
    cancelTimer?.()
  }
}

/**
 * What the TLS library said about a failure, for a person: a string cause as
 * it is; of an `Error`, OpenSSL's `reason` when there is one (its message is
 * a diagnostic line with file names), else the first line of its message.
 */
const detailOf = (cause: unknown): string | undefined => {
  if (typeof cause === "string") return cause
  if (!(cause instanceof Error)) return undefined
  const reason = (cause as { reason?: unknown }).reason
  if (typeof reason === "string" && reason !== "") return reason
  const line = cause.message.split("\n")[0]
  return line === undefined || line === "" ? undefined : line
}

/**
 * The fields of the error of a failed handshake: the driver's fields, with
 * what the TLS library said (or the deadline) as the detail.
 */
export const handshakeFields = (error: DriverError) => fieldsFromDriver(error, detailOf(error.cause))

/**
 * The handshakes a TLS server has in flight. A connection is handed on
 * (`onSecure`) once its handshake succeeded; a failed one is reported
 * (`onFailure`) and closed, never a failure of the server. Connections still
 * in a handshake when the server stops accepting are aborted.
 */
export class Handshakes {
  private readonly pending = new Set<Connection>()
  private closed = false
  private readonly timers: Timers
  private readonly timeoutMs: number | undefined
  private readonly onSecure: (connection: Connection) => void
  private readonly onFailure: (error: DriverError) => void

  constructor(
    timers: Timers,
    timeoutMs: number | undefined,
    onSecure: (connection: Connection) => void,
    onFailure: (error: DriverError) => void
  ) {
    this.timers = timers
    this.timeoutMs = timeoutMs
    this.onSecure = onSecure
    this.onFailure = onFailure
  }

  /** Starts the handshake of an accepted connection whose handle is a TLS layer. */
  start(connection: Connection): void {
    const handle = connection.handle
    if (this.closed || !isSecure(handle)) {
      connection.close()
      return
    }
    this.pending.add(connection)
    const remote = () => connection.remoteEndpoint()
    const cancel = runHandshake(this.timers, handle, this.timeoutMs, remote, (error) => {
      this.pending.delete(connection)
      if (error === undefined) this.onSecure(connection)
      else {
        this.onFailure(error)
        connection.close()
      }
    })
    // released from elsewhere meanwhile (maxConnections, the server's stop)
    connection.onClose(() => {
      if (this.pending.delete(connection)) cancel()
    })
  }

  /** Handshakes in flight. */
  get size(): number {
    return this.pending.size
  }

  /** Aborts every handshake in flight; later connections are closed at once. */
  close(): void {
    this.closed = true
    for (const connection of this.pending) connection.reset()
  }
}

/**
 * `driver`, with every connection it accepts wrapped as the server end of a
 * TLS session (its handshake starts when `Handshakes.start` asks): the
 * engine's listener counts, limits and blocks it as any connection.
 */
export const acceptSecure = (driver: Driver, context: ServerContext): Driver => ({
  ...driver,
  listen: (target, events, callback) =>
    driver.listen(target, {
      onConnection: (handle) => events.onConnection(context.wrap(handle, [])),
      onError: (error) => events.onError(error)
    }, callback)
})
