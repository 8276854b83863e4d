/**
 * The connection engine shared by both faces.
 *
 * `Connection` and `Listener` are plain, callback-based state machines over a
 * driver {@link Handle}: byte counters, the idle timer, the half-close policy,
 * connection limits, and the connect procedure (name lookup, address-family
 * selection, happy eyeballs, deadline). The Effect face (`Socket`, `Server`,
 * `Network`) and the Node face (`@sluice/compat`) both drive these objects, so
 * a lifecycle rule is written once and behaves the same in both.
 *
 * This module is the low-level layer for building faces; applications use
 * `Network` (Effect) or `@sluice/compat` (Node).
 *
 * @since 0.1.0
 */
import { isIP } from "./Address.ts"
import type {
  Driver,
  DriverError,
  Endpoint,
  Family,
  Handle,
  ListenerHandle,
  ListenTarget,
  LookupAddress,
  LookupOptions,
  PendingConnect,
  TextEncoding
} from "./Driver.ts"
import * as Text from "./internal/text.ts"

/**
 * What a face receives from a live connection.
 *
 * @category models
 * @since 0.1.0
 */
export interface ConnectionEvents {
  /**
   * Bytes arrived (already counted). With `borrowed: true` the chunk is valid
   * only until `onData` returns: copy what is kept (see `HandleEvents.onData`).
   */
  readonly onData: (chunk: Uint8Array, borrowed?: boolean) => void
  /** The peer half-closed. */
  readonly onEnd: () => void
  /** The connection failed while reading. */
  readonly onError: (error: DriverError) => void
  /** The idle timeout elapsed. The connection stays open; the face decides. */
  readonly onTimeout: () => void
  /**
   * The engine's half-close policy asks the face to end its write side once
   * its queued writes are flushed (the peer ended and `allowHalfOpen` is off).
   */
  readonly onEndWritable: () => void
}

const noop = (): void => {}

const detachedEvents: ConnectionEvents = {
  onData: noop,
  onEnd: noop,
  onError: noop,
  onTimeout: noop,
  onEndWritable: noop
}

/**
 * Options fixed when a connection is created.
 *
 * @category models
 * @since 0.1.0
 */
export interface ConnectionOptions {
  /** Keep the write side open after the peer ends (default `false`). */
  readonly allowHalfOpen?: boolean | undefined
}

const closedError = (syscall: string): DriverError => ({ code: "EPIPE", syscall })

/**
 * One end of an open connection.
 *
 * @category models
 * @since 0.1.0
 */
export class Connection {
  /** Bytes received so far. */
  bytesRead = 0
  /** Bytes handed to `write` so far (including bytes still queued). */
  bytesWritten = 0
  /** Bytes handed to `write` whose completion has not been reported yet. */
  pendingBytes = 0
  allowHalfOpen: boolean
  /** The peer has half-closed (FIN received). */
  readEnded = false
  /** Our FIN was requested. */
  writeEnded = false
  /** The handle was released. */
  closed = false
  readonly driver: Driver
  /** The handle underneath; {@link replaceHandle} puts a layer (TLS) in its place. */
  handle: Handle
  private events: ConnectionEvents = detachedEvents
  /** The idle timer, made on the first `setTimeout` (most connections never have one). */
  private idle: IdleTimer | undefined = undefined
  /** What runs once the handle is released: one function (the usual case), or several. */
  private closeHooks: (() => void) | Array<() => void> | undefined = undefined
  /** The listener that accepted this connection, told when it is released. */
  private readonly listener: Listener | undefined
  private local: Endpoint | undefined = undefined
  private remote: Endpoint | undefined = undefined

  constructor(driver: Driver, handle: Handle, options?: ConnectionOptions, listener?: Listener) {
    this.driver = driver
    this.handle = handle
    this.listener = listener
    this.allowHalfOpen = options?.allowHalfOpen ?? false
    // the connection itself receives the driver's events: prototype methods, no closures per connection
    handle.bind(this)
  }

  /** @internal driver event (`HandleEvents`) */
  onData(chunk: Uint8Array, borrowed?: boolean): void {
    this.bytesRead += chunk.length
    this.idle?.touch()
    this.events.onData(chunk, borrowed)
  }

  /** @internal driver event (`HandleEvents`) */
  onEnd(): void {
    if (this.readEnded) return
    this.readEnded = true
    this.idle?.touch()
    this.events.onEnd()
    if (!this.allowHalfOpen && !this.writeEnded && !this.closed) this.events.onEndWritable()
  }

  /** @internal driver event (`HandleEvents`) */
  onError(error: DriverError): void {
    if (this.closed) return
    this.events.onError(error)
  }

  /** Installs the face's callbacks. */
  attach(events: ConnectionEvents): void {
    this.events = events
  }

  /**
   * Puts `handle` in the place of the current one, which it wraps (STARTTLS:
   * a TLS layer over the plain handle). The connection keeps its state, its
   * counters, its idle timer and its listener; it reads and writes through
   * `handle` from now on.
   */
  replaceHandle(handle: Handle): void {
    if (this.closed) return
    this.handle = handle
    handle.bind(this)
  }

  /** Runs `f` once when the handle is released. */
  onClose(f: () => void): void {
    if (this.closed) f()
    else if (this.closeHooks === undefined) this.closeHooks = f
    else if (typeof this.closeHooks === "function") this.closeHooks = [this.closeHooks, f]
    else this.closeHooks.push(f)
  }

  readStart(): void {
    if (!this.closed && !this.readEnded) this.handle.readStart()
  }

  readStop(): void {
    if (!this.closed) this.handle.readStop()
  }

  /**
   * Sends chunks. `callback` runs when the driver accepted all of them, with
   * the error if the write failed (writing after close or after `shutdown`
   * fails with `EPIPE`). Returns `true` when the platform took every byte at
   * once (see `Handle.write`): the write is done, its callback reports success
   * on a later turn.
   */
  write(chunks: ReadonlyArray<Uint8Array>, callback: (error: DriverError | undefined) => void): boolean {
    let size = 0
    for (let i = 0; i < chunks.length; i++) size += chunks[i]!.length
    return this.send(chunks, undefined, size, callback)
  }

  /**
   * As `write`, with text among the chunks, every string in `encoding`;
   * `size` is the byte length of all of them once encoded (the face knows
   * it: counting it here would mean encoding twice). A driver with
   * `Handle.writeText` gets the text as it is; otherwise it is encoded here.
   */
  writeText(
    chunks: ReadonlyArray<Uint8Array | string>,
    encoding: TextEncoding,
    size: number,
    callback: (error: DriverError | undefined) => void
  ): boolean {
    if (this.handle.writeText !== undefined) return this.send(chunks, encoding, size, callback)
    return this.send(Text.encodeChunks(chunks, encoding), undefined, size, callback)
  }

  private send(
    chunks: ReadonlyArray<Uint8Array | string>,
    encoding: TextEncoding | undefined,
    size: number,
    callback: (error: DriverError | undefined) => void
  ): boolean {
    if (this.closed || this.writeEnded) {
      callback(closedError("write"))
      return false
    }
    this.bytesWritten += size
    this.pendingBytes += size
    this.idle?.touch()
    let queued = true
    const done = (error: DriverError | undefined) => {
      if (queued) {
        queued = false
        this.pendingBytes -= size
      }
      this.idle?.touch()
      callback(error)
    }
    const sent = encoding === undefined
      ? this.handle.write(chunks as ReadonlyArray<Uint8Array>, done)
      : this.handle.writeText!(chunks, encoding, done)
    // taken by the platform at once: no longer queued (the callback still runs later)
    if (sent !== true || !queued) return false
    queued = false
    this.pendingBytes -= size
    return true
  }

  /** Bytes queued below the face: accepted by `write`, not yet sent. */
  get queuedBytes(): number {
    return this.pendingBytes
  }

  /** Half-close: send FIN after queued writes. */
  shutdown(callback: (error: DriverError | undefined) => void): void {
    if (this.closed) {
      callback(undefined)
      return
    }
    this.writeEnded = true
    this.handle.shutdown(callback)
  }

  /** Release the handle; the peer sees FIN. */
  close(callback?: () => void): void {
    if (this.closed) {
      callback?.()
      return
    }
    this.markClosed()
    this.handle.close(callback ?? noop)
  }

  /** Abort; the peer sees RST. */
  reset(callback?: () => void): void {
    if (this.closed) {
      callback?.()
      return
    }
    this.markClosed()
    this.handle.reset(callback ?? noop)
  }

  /**
   * Graceful close, bounded: flush queued writes, send FIN, release the
   * handle. If that has not happened within `graceMs` (a peer that never
   * reads keeps the flush pending forever), abort with RST instead.
   * `callback(true)` after a graceful close, `callback(false)` after an abort.
   * `graceMs` of `Infinity` waits as long as it takes.
   */
  end(graceMs: number, callback: (graceful: boolean) => void): void {
    if (this.closed) {
      callback(true)
      return
    }
    let settled = false
    let cancel = noop
    const finish = () => {
      if (settled) return
      settled = true
      cancel()
      this.close(() => callback(true))
    }
    this.writeEnded = true
    this.handle.shutdown(finish)
    // already flushed (a half-closed socket, the usual end of a short
    // exchange): no grace timer to arm and cancel per connection
    if (settled) return
    this.handle.closing?.(graceMs)
    if (Number.isFinite(graceMs)) {
      cancel = this.driver.timers.schedule(Math.max(0, graceMs), () => {
        if (settled) return
        settled = true
        this.reset(() => callback(false))
      })
    }
    this.onClose(() => {
      // closed from elsewhere (an error, a reset) while flushing
      if (settled) return
      settled = true
      cancel()
      callback(false)
    })
  }

  private markClosed(): void {
    // addresses read before the close stay readable after it; unread ones are
    // gone with the handle, as in Node (no system calls on every close)
    this.closed = true
    this.events = detachedEvents
    this.idle?.clear()
    this.listener?.released()
    const hooks = this.closeHooks
    this.closeHooks = undefined
    if (typeof hooks === "function") hooks()
    else if (hooks !== undefined) { for (const hook of hooks) hook() }
  }

  /**
   * Arms the idle timer: `onTimeout` fires after `ms` milliseconds without a
   * read or a write, and again after each further idle period. `0` disarms.
   */
  setTimeout(ms: number): void {
    if (this.idle === undefined) {
      if (ms <= 0) return
      this.idle = new IdleTimer(this.driver.timers, () => {
        if (!this.closed) this.events.onTimeout()
      })
    }
    if (this.closed) this.idle.clear()
    else this.idle.set(ms)
  }

  get timeout(): number {
    return this.idle?.timeout ?? 0
  }

  localEndpoint(): Endpoint | undefined {
    if (this.local === undefined && !this.closed) this.local = this.handle.localEndpoint()
    return this.local
  }

  remoteEndpoint(): Endpoint | undefined {
    if (this.remote === undefined && !this.closed) this.remote = this.handle.remoteEndpoint()
    return this.remote
  }

  /**
   * A local-socket (IPC) connection? An accepted one answers from its
   * listener's endpoint, without asking the system for its own address.
   */
  isIpc(): boolean {
    if (this.listener !== undefined) return this.listener.endpoint()._tag === "Ipc"
    return this.localEndpoint()?._tag === "Ipc"
  }

  /**
   * The receiver copies every read into memory of its own (`Socket.readInto`,
   * compat's `onread` option): the driver may hand reads over borrowed.
   */
  borrowReads(): void {
    if (!this.closed) this.handle.borrowReads?.()
  }

  setNoDelay(enable: boolean): void {
    if (!this.closed) this.handle.setNoDelay(enable)
  }

  setKeepAlive(enable: boolean, initialDelayMs: number): void {
    if (!this.closed) this.handle.setKeepAlive(enable, initialDelayMs)
  }

  ref(): void {
    if (!this.closed) this.handle.ref()
  }

  unref(): void {
    if (!this.closed) this.handle.unref()
  }
}

/**
 * An idle timer on the driver's clock, usable before a connection exists (a
 * Node socket's timeout runs while it is still connecting). `fire` runs after
 * `ms` without a `touch`, and again after each further idle period.
 *
 * @category models
 * @since 0.1.0
 */
export class IdleTimer {
  private ms = 0
  private lastActivity = 0
  private cancel: (() => void) | undefined = undefined
  private readonly timers: Driver["timers"]
  private readonly fire: () => void

  constructor(timers: Driver["timers"], fire: () => void) {
    this.timers = timers
    this.fire = fire
  }

  /** Arms the timer for `ms` milliseconds of inactivity; `0` disarms. */
  set(ms: number): void {
    this.clear()
    this.ms = ms
    if (ms > 0) {
      this.lastActivity = this.timers.now()
      this.cancel = this.timers.schedule(ms, this.onTimer)
    }
  }

  get timeout(): number {
    return this.ms
  }

  /** Records activity: the idle period starts again. */
  touch(): void {
    if (this.ms <= 0) return
    this.lastActivity = this.timers.now()
    if (this.cancel === undefined) this.cancel = this.timers.schedule(this.ms, this.onTimer)
  }

  /** Disarms for good (until the next `set`). */
  clear(): void {
    if (this.cancel !== undefined) {
      this.cancel()
      this.cancel = undefined
    }
  }

  private readonly onTimer = (): void => {
    this.cancel = undefined
    if (this.ms <= 0) return
    const idle = this.timers.now() - this.lastActivity
    if (idle < this.ms) {
      this.cancel = this.timers.schedule(this.ms - idle, this.onTimer)
      return
    }
    this.fire()
  }
}

// ---------------------------------------------------------------------------
// connect
// ---------------------------------------------------------------------------

/**
 * A custom name lookup, in the shape of the driver's.
 *
 * @category models
 * @since 0.1.0
 */
export type LookupFunction = (
  hostname: string,
  options: LookupOptions,
  callback: (error: DriverError | undefined, addresses: ReadonlyArray<LookupAddress>) => void
) => void

/**
 * A fully validated connect request.
 *
 * @category models
 * @since 0.1.0
 */
export type ConnectRequest =
  | { readonly _tag: "Ipc"; readonly path: string; readonly deadlineMs?: number | undefined }
  | {
    readonly _tag: "Tcp"
    readonly host: string
    readonly port: number
    readonly localAddress?: string | undefined
    readonly localPort?: number | undefined
    readonly family: 0 | 4 | 6
    readonly hints: number
    readonly lookup?: LookupFunction | undefined
    readonly autoSelectFamily: boolean
    readonly autoSelectFamilyAttemptTimeoutMs: number
    /** A block list: an address it blocks is never dialled; the connect fails with `ERR_IP_BLOCKED`. */
    readonly blocked?: ((address: string, family: 4 | 6) => boolean) | undefined
    /**
     * One deadline over lookup and every attempt (`undefined`: none). Its
     * timer keeps the process alive (`Timers.schedule`'s `keepAlive`).
     */
    readonly deadlineMs?: number | undefined
  }

/**
 * The outcome of one connect attempt.
 *
 * @category models
 * @since 0.1.0
 */
export interface Attempt {
  readonly address: string
  readonly port: number
  readonly family: 4 | 6
  readonly outcome: "connected" | "failed" | "timedOut" | "cancelled"
  readonly error?: DriverError | undefined
  readonly durationMs: number
}

/**
 * Observes the phases of a connect. Every member is optional.
 *
 * @category models
 * @since 0.1.0
 */
export interface ConnectObserver {
  readonly onLookup?: (
    error: DriverError | undefined,
    address: string | undefined,
    family: 4 | 6 | undefined,
    host: string
  ) => void
  /** Several addresses will be tried in turn (happy eyeballs), in this order. */
  readonly onAttempts?: (addresses: ReadonlyArray<LookupAddress>) => void
  readonly onAttempt?: (address: string, port: number, family: 4 | 6) => void
  /** An attempt failed (every failed attempt, the last one included). */
  readonly onAttemptFailed?: (address: string, port: number, family: 4 | 6, error: DriverError) => void
  readonly onAttemptTimeout?: (address: string, port: number, family: 4 | 6) => void
}

/**
 * The result of a successful connect.
 *
 * @category models
 * @since 0.1.0
 */
export interface Connected {
  readonly handle: Handle
  readonly attempts: ReadonlyArray<Attempt>
}

/**
 * The failure of a connect: the error that ends it (the only error, the last
 * attempt's, or `ETIMEDOUT` for the deadline) and every attempt.
 *
 * @category models
 * @since 0.1.0
 */
export interface ConnectFailure {
  readonly error: DriverError
  readonly errors: ReadonlyArray<DriverError>
  readonly attempts: ReadonlyArray<Attempt>
  /** `true` when the failure happened during name lookup. */
  readonly lookup: boolean
}

/**
 * Orders resolved addresses for happy eyeballs: families interleaved, starting
 * with the family of the first answer (RFC 8305, as Node does); each address
 * is tried once.
 *
 * @category connect
 * @since 0.1.0
 */
export const interleave = (addresses: ReadonlyArray<LookupAddress>): Array<LookupAddress> => {
  if (addresses.length === 0) return []
  const first = addresses[0]!.family
  const seen = new Set<string>()
  const unique = addresses.filter((x) => {
    const key = `${x.family}/${x.address}`
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
  const a = unique.filter((x) => x.family === first)
  const b = unique.filter((x) => x.family !== first)
  const out: Array<LookupAddress> = []
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (i < a.length) out.push(a[i]!)
    if (i < b.length) out.push(b[i]!)
  }
  return out
}

/**
 * Runs the connect procedure: name lookup (skipped for IP literals and paths),
 * then one attempt or, with `autoSelectFamily`, attempts over interleaved
 * families each bounded by the attempt timeout, all under the optional
 * deadline. Returns a canceller; after cancelling, no callback runs and
 * nothing stays open. Its `local` reads the local address of the attempt in
 * flight, where the driver tells it (`PendingConnect`).
 *
 * @category connect
 * @since 0.1.0
 */
export const connect = (
  driver: Driver,
  request: ConnectRequest,
  observer: ConnectObserver,
  callback: (failure: ConnectFailure | undefined, connected: Connected | undefined) => void
): PendingConnect => {
  let done = false
  let cancelStep: (() => void) | undefined
  // the attempt in flight (not the lookup), for `local`
  let inFlight: PendingConnect | undefined
  let cancelDeadline: (() => void) | undefined
  const attempts: Array<Attempt> = []
  const errors: Array<DriverError> = []
  const finish = (failure: ConnectFailure | undefined, connected: Connected | undefined) => {
    if (done) return
    done = true
    cancelDeadline?.()
    callback(failure, connected)
  }
  const fail = (error: DriverError, lookup: boolean) => finish({ error, errors, attempts, lookup }, undefined)

  if (request.deadlineMs !== undefined) {
    const ms = request.deadlineMs
    const target = request._tag === "Ipc" ? { address: request.path } : { address: request.host, port: request.port }
    // the caller waits on the deadline: it keeps the process alive (as Effect.timeout would), whatever else does
    cancelDeadline = driver.timers.schedule(ms, () => {
      if (done) return
      cancelStep?.()
      fail({ code: "ETIMEDOUT", syscall: "connect", ...target, cause: `connect deadline of ${ms} ms elapsed` }, false)
    }, true)
  }

  if (request._tag === "Ipc") {
    cancelStep = inFlight = driver.connect({ _tag: "Ipc", path: request.path }, (error, handle) => {
      inFlight = undefined
      if (error !== undefined || handle === undefined) {
        const e = error ?? { code: "UNKNOWN", syscall: "connect" }
        errors.push(e)
        fail(e, false)
      } else finish(undefined, { handle, attempts })
    })
    return pending(() => {
      done = true
      cancelStep?.()
      cancelDeadline?.()
    }, () => inFlight?.local?.())
  }

  const tcp = request
  /**
   * One attempt; `multiple` when it is one of several addresses (happy
   * eyeballs), where a blocked address is an attempt that failed and the next
   * one is tried, as in Node's `internalConnectMultiple`.
   */
  const attemptOne = (
    address: LookupAddress,
    timeoutMs: number | undefined,
    next: (() => void) | undefined,
    multiple: boolean
  ) => {
    const start = driver.timers.now()
    let settled = false
    let cancelTimeout: (() => void) | undefined
    // as Node's internalConnect: bind, announce the attempt, check the block list, dial (with several
    // addresses, internalConnectMultiple checks the block list before it announces the attempt)
    let announced = false
    let blockedError: DriverError | undefined
    const isBlocked = (): DriverError | undefined =>
      tcp.blocked?.(address.address, address.family) === true
        ? { code: "ERR_IP_BLOCKED", syscall: "connect", address: address.address, port: tcp.port }
        : undefined
    const announce = (): boolean => {
      announced = true
      if (multiple) {
        const e = isBlocked()
        if (e !== undefined) {
          settled = true
          // inside `driver.connect` (or the announce below), reported once it returned: the next attempt
          // does not start inside it; from a driver that dials on a later turn, at once
          if (inCall || announcingHere) blockedError = e
          else skipBlocked(e)
          return false
        }
      }
      observer.onAttempt?.(address.address, tcp.port, address.family)
      if (done) return false
      const e = multiple ? undefined : isBlocked()
      if (e !== undefined) {
        settled = true
        errors.push(e)
        fail(e, false)
        return false
      }
      return true
    }
    const skipBlocked = (e: DriverError): void => {
      errors.push(e)
      attempts.push({ ...address, port: tcp.port, outcome: "failed", error: e, durationMs: 0 })
      observer.onAttemptFailed?.(address.address, tcp.port, address.family, e)
      if (done) return
      if (next !== undefined) next()
      else fail(e, false)
    }
    // a bind that fails inside `connect` is reported there: the attempt never started
    let inCall = true
    let announcingHere = false
    let bindFailure: DriverError | undefined
    const cancelConnect = driver.connect(
      {
        _tag: "Tcp",
        address: address.address,
        port: tcp.port,
        family: address.family,
        localAddress: tcp.localAddress,
        localPort: tcp.localPort
      },
      (error, handle) => {
        if (inCall) {
          bindFailure = error ?? { code: "UNKNOWN", syscall: "bind" }
          return
        }
        if (settled || done) {
          handle?.close(noop)
          return
        }
        settled = true
        inFlight = undefined
        cancelTimeout?.()
        const durationMs = driver.timers.now() - start
        if (error !== undefined || handle === undefined) {
          const e = error ?? { code: "UNKNOWN", syscall: "connect" }
          errors.push(e)
          attempts.push({ ...address, port: tcp.port, outcome: "failed", error: e, durationMs })
          // a bind failure reported later (a driver that binds as it dials): no dial was attempted
          // nor for one address refused within the connect call (as node:net's internalConnect)
          if (e.syscall !== "bind" && !(e.immediate === true && !multiple)) {
            observer.onAttemptFailed?.(address.address, tcp.port, address.family, e)
          }
          if (done) return
          if (next !== undefined) next()
          else fail(e, false)
          return
        }
        attempts.push({ ...address, port: tcp.port, outcome: "connected", durationMs })
        finish(undefined, { handle, attempts })
      },
      { beforeDial: announce }
    )
    inCall = false
    if (blockedError !== undefined) {
      skipBlocked(blockedError)
      return
    }
    if (bindFailure !== undefined) {
      const e = bindFailure
      settled = true
      errors.push(e)
      attempts.push({ ...address, port: tcp.port, outcome: "failed", error: e, durationMs: 0 })
      if (next !== undefined) next()
      else fail(e, false)
      return
    }
    // a driver without dial hooks dials at once: the attempt is announced now, and abandoned when blocked
    // (a driver that dials on a later turn announces it then: `PendingConnect.announcesLater`)
    if (!announced && !settled && cancelConnect.announcesLater !== true) {
      announcingHere = true
      const go = announce()
      announcingHere = false
      if (!go) {
        cancelConnect()
        if (blockedError !== undefined) skipBlocked(blockedError)
        return
      }
    }
    if (settled || done) return
    inFlight = cancelConnect
    cancelStep = () => {
      if (settled) return
      settled = true
      inFlight = undefined
      cancelTimeout?.()
      cancelConnect()
      attempts.push({
        ...address,
        port: tcp.port,
        outcome: "cancelled",
        durationMs: driver.timers.now() - start
      })
    }
    if (timeoutMs !== undefined && next !== undefined) {
      cancelTimeout = driver.timers.schedule(timeoutMs, () => {
        if (settled || done) return
        settled = true
        inFlight = undefined
        cancelConnect()
        attempts.push({ ...address, port: tcp.port, outcome: "timedOut", durationMs: driver.timers.now() - start })
        observer.onAttemptTimeout?.(address.address, tcp.port, address.family)
        next()
      })
    }
  }

  const attemptAll = (addresses: ReadonlyArray<LookupAddress>) => {
    let i = 0
    const step = (): void => {
      if (done) return
      const address = addresses[i++]!
      const last = i >= addresses.length
      attemptOne(address, last ? undefined : tcp.autoSelectFamilyAttemptTimeoutMs, last ? undefined : step, true)
    }
    step()
  }

  const literal = isIP(tcp.host)
  if (literal !== 0) {
    attemptOne({ address: tcp.host, family: literal }, undefined, undefined, false)
  } else {
    const all = tcp.autoSelectFamily
    let cancelled = false
    let cancelLookup = noop
    // the step is the lookup until it answers; set before the lookup runs,
    // so that a custom lookup answering synchronously leaves the attempt's
    // canceller in place (a custom lookup cannot be cancelled)
    cancelStep = () => {
      cancelled = true
      cancelLookup()
    }
    const lookupOptions: LookupOptions = { family: tcp.family, hints: tcp.hints, all }
    if (tcp.lookup === undefined) cancelLookup = driver.lookup(tcp.host, lookupOptions, onResolved)
    else tcp.lookup(tcp.host, lookupOptions, onResolved)
    function onResolved(error: DriverError | undefined, addresses: ReadonlyArray<LookupAddress>) {
      if (cancelled || done) return
      if (error !== undefined || addresses.length === 0) {
        const e = error ?? { code: "ENOTFOUND", syscall: "getaddrinfo", address: tcp.host }
        observer.onLookup?.(e, undefined, undefined, tcp.host)
        errors.push(e)
        fail(e, true)
        return
      }
      // with `all`, every answer is reported (as Node emits one 'lookup' per address)
      if (all) {
        for (const a of addresses) {
          observer.onLookup?.(undefined, a.address, a.family, tcp.host)
          if (cancelled || done) return
        }
      }
      if (!all) {
        observer.onLookup?.(undefined, addresses[0]!.address, addresses[0]!.family, tcp.host)
        if (cancelled || done) return
      }
      // answers that are not IP addresses of family 4 or 6 (a custom lookup's) are never dialled
      const valid = (all ? addresses : addresses.slice(0, 1)).filter((a) =>
        (a.family === 4 || a.family === 6) && isIP(a.address) !== 0
      )
      if (valid.length === 0) {
        const first = addresses[0]!
        const e: DriverError = {
          code: "EINVAL",
          syscall: "lookup",
          address: first.address,
          cause: `invalid lookup answer: ${first.address} (family ${String(first.family)})`
        }
        errors.push(e)
        fail(e, true)
        return
      }
      const ordered = all ? interleave(valid) : valid
      if (ordered.length === 1 || !all) {
        const only = ordered[0]!
        attemptOne(only, undefined, undefined, false)
        return
      }
      observer.onAttempts?.(ordered)
      attemptAll(ordered)
    }
  }

  return pending(() => {
    if (done) return
    done = true
    cancelStep?.()
    cancelDeadline?.()
  }, () => inFlight?.local?.())
}

const pending = (cancel: () => void, local: () => Endpoint | undefined): PendingConnect =>
  Object.assign(cancel, { local })

// ---------------------------------------------------------------------------
// listen
// ---------------------------------------------------------------------------

/**
 * The addresses of a dropped connection (`maxConnections` reached).
 *
 * @category models
 * @since 0.1.0
 */
export interface DropInfo {
  readonly local: Endpoint | undefined
  readonly remote: Endpoint | undefined
}

/**
 * What a face receives from a listener.
 *
 * @category models
 * @since 0.1.0
 */
export interface ListenerEvents {
  readonly onConnection: (connection: Connection) => void
  readonly onDrop: (info: DropInfo) => void
  readonly onError: (error: DriverError) => void
}

/**
 * Options of a listener.
 *
 * @category models
 * @since 0.1.0
 */
export interface ListenerOptions {
  readonly allowHalfOpen?: boolean | undefined
  /** Refuse connections beyond this many open ones (`undefined`: no limit). */
  readonly maxConnections?: number | undefined
  /**
   * The limit read at each accept, in place of `maxConnections` (a face whose
   * limit may change at any time, as a `net.Server`'s `maxConnections`).
   */
  readonly limit?: (() => number | null | undefined) | undefined
  /**
   * How a connection beyond `maxConnections` is refused: `"close"` (default,
   * as node:net: the client sees an end of input) or `"reset"` (RST: the
   * client sees `ECONNRESET`).
   */
  readonly dropWith?: "close" | "reset" | undefined
  /** A block list: connections from a peer it blocks are closed at once, silently. */
  readonly blocked?: ((address: string, family: 4 | 6) => boolean) | undefined
}

/**
 * A listening server: accepts connections, enforces `maxConnections`, counts
 * open connections.
 *
 * @category models
 * @since 0.1.0
 */
export class Listener {
  /** Connections accepted and not yet closed. */
  connections = 0
  /** Connections refused because of `maxConnections`. */
  dropped = 0
  maxConnections: number | undefined
  /** The limit read at each accept in place of {@link maxConnections} (see {@link ListenerOptions.limit}). */
  limit: (() => number | null | undefined) | undefined
  /** How connections beyond `maxConnections` are refused (see {@link ListenerOptions.dropWith}). */
  dropWith: "close" | "reset"
  allowHalfOpen: boolean
  blocked: ((address: string, family: 4 | 6) => boolean) | undefined
  closed = false
  readonly driver: Driver
  /** The driver's listening handle. */
  readonly handle: ListenerHandle
  private readonly events: ListenerEvents
  private endpointCache: Endpoint | undefined

  constructor(driver: Driver, handle: ListenerHandle, events: ListenerEvents, options?: ListenerOptions) {
    this.driver = driver
    this.handle = handle
    this.events = events
    this.maxConnections = options?.maxConnections
    this.limit = options?.limit
    this.dropWith = options?.dropWith ?? "close"
    this.allowHalfOpen = options?.allowHalfOpen ?? false
    this.blocked = options?.blocked
  }

  /** @internal */
  accept(handle: Handle): void {
    if (this.closed) {
      handle.close(noop)
      return
    }
    if (this.full()) {
      const info: DropInfo = { local: handle.localEndpoint(), remote: handle.remoteEndpoint() }
      if (this.dropWith === "reset") handle.reset(noop)
      else handle.close(noop)
      this.dropped++
      this.events.onDrop(info)
      return
    }
    if (this.blocked !== undefined) {
      const remote = handle.remoteEndpoint()
      if (remote?._tag === "Tcp" && this.blocked(remote.address, remote.family === "IPv6" ? 6 : 4)) {
        handle.close(noop)
        return
      }
    }
    this.connections++
    this.events.onConnection(new Connection(this.driver, handle, { allowHalfOpen: this.allowHalfOpen }, this))
  }

  /**
   * `true` while a connection accepted now would be dropped: as many open
   * connections as the limit (as Node's `maxConnections != null &&
   * _connections >= maxConnections`).
   */
  full(): boolean {
    const max = this.limit === undefined ? this.maxConnections : this.limit()
    return max != null && this.connections >= max
  }

  /** @internal one of this listener's connections was released */
  released(): void {
    this.connections--
  }

  endpoint(): Endpoint {
    if (this.endpointCache === undefined) this.endpointCache = this.handle.endpoint()
    return this.endpointCache
  }

  /** Stop accepting. Open connections are not touched. */
  close(callback?: () => void): void {
    if (this.closed) {
      callback?.()
      return
    }
    this.closed = true
    this.handle.close(callback ?? noop)
  }
}

/**
 * Binds and listens. The callback runs once with the listener or the error.
 *
 * @category listen
 * @since 0.1.0
 */
export const listen = (
  driver: Driver,
  target: ListenTarget,
  events: ListenerEvents,
  options: ListenerOptions | undefined,
  callback: (error: DriverError | undefined, listener: Listener | undefined) => void
): void => {
  // connections arrive only once the bind succeeded, that is once the listener exists
  let listener: Listener | undefined
  driver.listen(target, {
    onConnection: (handle) => listener === undefined ? handle.close(noop) : listener.accept(handle),
    onError: (error) => events.onError(error),
    full: () => listener !== undefined && listener.full()
  }, (error, handle) => {
    if (error !== undefined || handle === undefined) {
      callback(error ?? { code: "UNKNOWN", syscall: "listen" }, undefined)
      return
    }
    listener = new Listener(driver, handle, events, options)
    callback(undefined, listener)
  })
}

/**
 * The family name of a numeric family.
 *
 * @category connect
 * @since 0.1.0
 */
export const familyName = (family: 4 | 6): Family => (family === 6 ? "IPv6" : "IPv4")
