/**
 * A connected socket, Effect style.
 *
 * Reads are a backpressured `Stream` (nothing is read from the network until
 * the stream is pulled; a slow reader makes the peer's writes block), writes a
 * backpressured `Sink`. `endOfOutput` half-closes. There is no `close()`: the
 * socket belongs to a scope; closing the scope normally flushes and sends FIN,
 * closing it on failure or interruption aborts with RST.
 *
 * @since 0.1.0
 */
import type { NonEmptyReadonlyArray } from "effect/Array"
import * as Cause from "effect/Cause"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { dual } from "effect/Function"
import type { Pipeable } from "effect/Pipeable"
import { pipeArguments } from "effect/Pipeable"
import * as Scope from "effect/Scope"
import * as Sink from "effect/Sink"
import * as Stream from "effect/Stream"
import type { DriverError, Endpoint } from "./Driver.ts"
import type { Connection } from "./Engine.ts"
import { millisOrMessage } from "./internal/duration.ts"
import { sessionOf } from "./internal/handshake.ts"
import { encodeUtf8 } from "./internal/text.ts"
import type { ConnectAttempt } from "./NetError.ts"
import { fieldsFromDriver, invalidOptions, SocketError } from "./NetError.ts"
import * as Observability from "./Observability.ts"
import type { Session } from "./Tls.ts"

/**
 * The key that marks a value as a {@link Socket} (see {@link isSocket}).
 *
 * @category type IDs
 * @since 0.1.0
 */
export const TypeId: "~@sluice/core/Socket" = "~@sluice/core/Socket"

/**
 * A connected socket.
 *
 * @category models
 * @since 0.1.0
 */
export interface Socket extends Pipeable {
  readonly [TypeId]: typeof TypeId
  /**
   * The bytes the peer sends, in the order sent, ending cleanly when the peer
   * half-closes, failing when the connection fails (a reset fails it even
   * when the platform reported the reset to a write). It is the socket's
   * single read side, as `pull` and `readInto` are: reads that run at once,
   * of any of the three, take turns (see `pull`).
   */
  readonly reads: Stream.Stream<Uint8Array, SocketError>
  /**
   * The read side as a pull: the next batch of chunks (at most about the read
   * high-water mark), `Cause.Done` at the clean end of input. `reads` is
   * this pull as a `Stream`; use one or the other.
   *
   * Concurrent reads take turns: a read (`pull`, `readInto` or a pull of
   * `reads`) that starts while another waits for bytes waits until that one
   * was answered, then gets the next bytes. No byte is delivered twice or
   * lost, and the end of input or a failure answers every waiting read; which
   * reader gets which bytes depends on timing, so a protocol reads from one
   * fiber.
   */
  readonly pull: Effect.Effect<NonEmptyReadonlyArray<Uint8Array>, SocketError | Cause.Done>
  /**
   * Reads into `buffer`: waits until bytes arrive, copies as many as fit
   * (bytes that do not fit wait for the next read) and succeeds with their
   * count; `Cause.Done` at the clean end of input. A reader that reuses its
   * buffer (a parser, a byte counter, a copy into a file) allocates nothing
   * per read: bytes the driver hands over while this read waits are copied
   * straight from the driver's read buffer. An empty buffer succeeds with 0
   * at once. One read side with `pull` and `reads`: concurrent reads take
   * turns (see `pull`).
   *
   * @example
   * ```ts
   * import { Cause, Effect } from "effect"
   * import type { Socket } from "@sluice/core"
   *
   * // counts the bytes until the peer half-closes
   * const count = (socket: Socket.Socket) =>
   *   Effect.gen(function*() {
   *     const buffer = new Uint8Array(65536)
   *     let total = 0
   *     while (true) {
   *       const n = yield* Effect.catchIf(socket.readInto(buffer), Cause.isDone, () => Effect.succeed(-1))
   *       if (n < 0) return total
   *       total += n
   *     }
   *   })
   * ```
   */
  readonly readInto: (buffer: Uint8Array) => Effect.Effect<number, SocketError | Cause.Done>
  /**
   * A sink that writes every chunk; completes when the driver accepted them.
   * Backpressured by bytes, whatever the size of the batches the stream
   * brings (see `writeAll`).
   */
  readonly writes: Sink.Sink<void, Uint8Array, never, SocketError>
  /**
   * Writes one chunk (strings are UTF-8 encoded). Returns once the chunk is
   * issued while less than the write high-water mark is queued below the
   * face, else once it is handed to the platform; a chunk larger than the
   * mark goes out in views of it (see `writeAll`).
   */
  readonly write: (chunk: Uint8Array | string) => Effect.Effect<void, SocketError>
  /**
   * Writes several chunks, as one vectored write when they fit under the
   * write high-water mark. A larger batch goes out in pieces: whole chunks
   * while they fit, a chunk larger than the mark in views of it (no byte is
   * copied), the next piece issued once the one before left the queue below
   * the mark. So a socket holds at most about the mark, plus one chunk,
   * beyond what the platform took (`queuedBytes`), whatever the batch size.
   */
  readonly writeAll: (chunks: ReadonlyArray<Uint8Array>) => Effect.Effect<void, SocketError>
  /** Half-close: flush queued writes and send FIN. Reads continue. */
  readonly endOfOutput: Effect.Effect<void, SocketError>
  /** This end's address: IP and port for TCP, the path for IPC. */
  readonly localAddress: Endpoint | undefined
  /** The peer's address: IP and port for TCP, the path for IPC. */
  readonly remoteAddress: Endpoint | undefined
  /**
   * What the TLS handshake settled (protocol, cipher, ALPN, the peer's
   * certificate, ...) on an encrypted socket; `undefined` on a plain one.
   */
  readonly tls: Session | undefined
  /**
   * How the connection was opened: every connect attempt with its address,
   * family, outcome and duration (empty for accepted sockets and IPC).
   */
  readonly attempts: ReadonlyArray<ConnectAttempt>
  /** Bytes received so far. */
  readonly bytesRead: Effect.Effect<number>
  /** Bytes written so far (including bytes still queued below). */
  readonly bytesWritten: Effect.Effect<number>
  /** Bytes received and held for the reader, not yet pulled (bounded by the read high-water mark). */
  readonly bufferedBytes: Effect.Effect<number>
  /**
   * Bytes handed to the driver and not taken by the platform yet (a write the
   * kernel takes whole at once is not counted).
   */
  readonly queuedBytes: Effect.Effect<number>
  /** Turns Nagle's algorithm off (`true`) or on (`false`) on the live connection. */
  readonly setNoDelay: (enable: boolean) => Effect.Effect<void>
  /**
   * Turns TCP keep-alive probes on or off on the live connection; the first
   * probe goes after `initialDelay` idle (default: the system's). A delay that
   * is not a finite duration ≥ 0 fails with `InvalidOptions`.
   */
  readonly setKeepAlive: (enable: boolean, initialDelay?: Duration.Input) => Effect.Effect<void, SocketError>
  /** The engine connection underneath (for building other faces). */
  readonly connection: Connection
  /** The scope this socket lives in; closing it closes the socket. */
  readonly scope: Scope.Closeable
}

/**
 * Options of a socket's read and write sides.
 *
 * @category models
 * @since 0.1.0
 */
export interface SocketOptions {
  /** Stop reading from the network once this many bytes wait unread (default 64 KiB). */
  readonly readHighWaterMark?: number | undefined
  /**
   * `write` returns at once while fewer bytes than this are queued below the
   * face; a writer never has more than about this many bytes (plus one
   * chunk) queued beyond what the platform took, whatever the batch size
   * (default 64 KiB).
   */
  readonly writeHighWaterMark?: number | undefined
  /** Fail reads with `TimedOut` and abort after this long without activity. */
  readonly idleTimeoutMs?: number | undefined
  /**
   * Bound of the graceful close when the scope closes: flush and FIN must be
   * done within this many milliseconds, or the socket is aborted with RST
   * (default 10 000; `Infinity` waits as long as it takes).
   */
  readonly closeTimeoutMs?: number | undefined
  /** The connect attempts that opened the socket. */
  readonly attempts?: ReadonlyArray<ConnectAttempt> | undefined
}

const toSocketError = (error: DriverError): SocketError => new SocketError(fieldsFromDriver(error))

/** A write after the end of output (or after the handle was released), as the engine refuses it. */
const writeAfterEnd: DriverError = { code: "EPIPE", syscall: "write" }

const noop = (): void => {}

/** The `readInto` buffer while no `readInto` waits. */
const noBuffer = new Uint8Array(0)

/** One shared value: closing a socket must not build an Error (and its stack) per connection. */
let scopeClosedError: SocketError | undefined
const scopeClosed = (): SocketError =>
  scopeClosedError ??= new SocketError({
    reason: "Closed",
    code: "ERR_SOCKET_CLOSED",
    syscall: "read",
    detail: "the socket's scope is closed"
  })

type Resume<A, E> = (effect: Effect.Effect<A, E>) => void

class SocketImpl implements Socket {
  readonly [TypeId] = TypeId
  pipe() {
    return pipeArguments(this, arguments)
  }
  readonly connection: Connection
  readonly scope: Scope.Closeable
  readonly attempts: ReadonlyArray<ConnectAttempt>
  private readonly readHighWaterMark: number
  private readonly writeHighWaterMark: number
  private readonly closeTimeoutMs: number
  private chunks: Array<Uint8Array> = []
  private buffered = 0
  private reading = false
  private ended = false
  private failure: SocketError | undefined = undefined
  private writeFailure: SocketError | undefined = undefined
  /**
   * A write failed on the platform (the connection was reset or timed out):
   * the read side ends with this error rather than with the end of file a
   * kernel reports once it gave the error to the write.
   */
  private brokenBy: SocketError | undefined = undefined
  /** The waiting `pull` (the read side's one waiting read; see `queuedReads`). */
  private waiter: Resume<NonEmptyReadonlyArray<Uint8Array>, SocketError | Cause.Done> | undefined = undefined
  /** The waiting `readInto` and its buffer (the other kind of waiting read). */
  private intoWaiter: Resume<number, SocketError | Cause.Done> | undefined = undefined
  private intoBuffer: Uint8Array = noBuffer
  /** The buffer of a `readInto` between its check for bytes and its wait (see `readIntoNow`). */
  private intoNext: Uint8Array = noBuffer
  /**
   * Reads that started while another read waited: each runs again, in order,
   * once that wait ends (answered or interrupted), so concurrent reads take
   * turns. Made only when reads are concurrent.
   */
  private queuedReads: Array<() => void> | undefined = undefined
  /** The engine asked to end the write side (peer ended, `allowHalfOpen` off). */
  private endWritable = false
  /** The reader was handed the end of input. */
  private endSeen = false

  constructor(connection: Connection, scope: Scope.Closeable, options: SocketOptions | undefined) {
    this.connection = connection
    this.scope = scope
    this.readHighWaterMark = options?.readHighWaterMark ?? 65536
    this.writeHighWaterMark = options?.writeHighWaterMark ?? 65536
    this.closeTimeoutMs = options?.closeTimeoutMs ?? 10_000
    this.attempts = options?.attempts ?? []
    // the socket itself receives the engine's events: prototype methods, no closures per connection
    connection.attach(this)
    if (options?.idleTimeoutMs !== undefined && options.idleTimeoutMs > 0) {
      connection.setTimeout(options.idleTimeoutMs)
    }
  }

  /** @internal engine event */
  onData(chunk: Uint8Array, borrowed?: boolean): void {
    const into = this.intoWaiter
    if (into !== undefined) {
      // straight into the reader's buffer: no chunk is kept
      const buffer = this.intoBuffer
      this.intoWaiter = undefined
      this.intoBuffer = noBuffer
      const n = Math.min(buffer.length, chunk.length)
      buffer.set(n === chunk.length ? chunk : chunk.subarray(0, n))
      if (n < chunk.length) {
        const rest = chunk.subarray(n)
        this.keep(borrowed === true ? rest.slice() : rest)
      }
      into(Effect.succeed(n))
      if (this.queuedReads !== undefined) this.nextReads()
      return
    }
    this.keep(borrowed === true ? chunk.slice() : chunk)
    const waiter = this.waiter
    if (waiter !== undefined) {
      this.waiter = undefined
      waiter(Effect.succeed(this.take()))
      if (this.queuedReads !== undefined) this.nextReads()
    }
  }

  private keep(chunk: Uint8Array): void {
    this.chunks.push(chunk)
    this.buffered += chunk.length
    if (this.waiter === undefined && this.buffered >= this.readHighWaterMark && this.reading) {
      this.reading = false
      this.connection.readStop()
    }
  }

  /** @internal engine event */
  onEnd(): void {
    this.reading = false
    if (this.brokenBy !== undefined) return this.fail(this.brokenBy)
    this.ended = true
    this.settle()
  }

  /** @internal engine event */
  onError(error: DriverError): void {
    this.fail(toSocketError(error))
  }

  /** The connection failed: reads fail (after the bytes already here), writes fail, the handle is released. */
  private fail(error: SocketError): void {
    this.failure ??= error
    this.writeFailure ??= this.failure
    this.settle()
    this.connection.close()
  }

  /**
   * A write failed on the platform. The connection is broken: a kernel that
   * reported a reset to a write gives a later read end of file, so the read
   * side, unless it has ended already, fails with this error once it has
   * read the bytes that arrived before it (as node:net, which destroys a
   * socket whose write failed, fails its reads).
   */
  private writeFailed(error: DriverError): SocketError {
    const failure = (this.writeFailure ??= toSocketError(error))
    if (!this.ended && this.failure === undefined) this.brokenBy ??= failure
    return failure
  }

  /** @internal engine event */
  onTimeout(): void {
    this.failure ??= new SocketError({
      reason: "TimedOut",
      code: "ETIMEDOUT",
      syscall: "read",
      detail: `no activity for ${this.connection.timeout} ms (idle timeout)`
    })
    this.writeFailure ??= this.failure
    this.settle()
    this.connection.reset()
  }

  /** @internal engine event */
  onEndWritable(): void {
    // As node:net ends its side only after 'end', i.e. once every byte was
    // handed to the reader: bytes still buffered here may yet be answered
    // (an echo), so the write side ends when the reader reaches the end.
    this.endWritable = true
    if (this.endSeen) this.connection.shutdown(noop)
  }

  /** The reader reached the clean end of input. */
  private done(): Effect.Effect<never, Cause.Done> {
    this.endSeen = true
    if (this.endWritable) {
      this.endWritable = false
      this.connection.shutdown(noop)
    }
    return Cause.done()
  }

  get localAddress(): Endpoint | undefined {
    return this.connection.localEndpoint()
  }

  get remoteAddress(): Endpoint | undefined {
    return this.connection.remoteEndpoint()
  }

  get tls(): Session | undefined {
    return sessionOf(this.connection.handle)
  }

  /**
   * Stops reading and hands over the bytes read and not pulled yet (STARTTLS:
   * they belong to the TLS session); `resume` reads on for a reader that
   * waits meanwhile. The socket's failure or end when it cannot be upgraded.
   */
  handOver(): { readonly unread: ReadonlyArray<Uint8Array>; readonly resume: () => void } | SocketError {
    if (this.failure !== undefined) return this.failure
    if (this.ended || this.connection.closed || this.connection.readEnded) {
      return new SocketError({
        reason: "Closed",
        code: "ERR_SOCKET_CLOSED",
        syscall: "upgrade",
        detail: "the peer ended the connection before the upgrade"
      })
    }
    if (this.reading) {
      this.reading = false
      this.connection.readStop()
    }
    const unread = this.chunks
    this.chunks = []
    this.buffered = 0
    return {
      unread,
      resume: () => {
        if (this.waiter !== undefined || this.intoWaiter !== undefined) this.startReading()
      }
    }
  }

  private take(): NonEmptyReadonlyArray<Uint8Array> {
    const out = this.chunks as unknown as NonEmptyReadonlyArray<Uint8Array>
    this.chunks = []
    this.buffered = 0
    return out
  }

  /** Copies buffered bytes into `buffer`, as many as fit. */
  private drainInto(buffer: Uint8Array): number {
    const chunks = this.chunks
    let n = 0
    let used = 0
    while (used < chunks.length && n < buffer.length) {
      const chunk = chunks[used]!
      const k = Math.min(chunk.length, buffer.length - n)
      buffer.set(k === chunk.length ? chunk : chunk.subarray(0, k), n)
      n += k
      if (k === chunk.length) used++
      else chunks[used] = chunk.subarray(k)
    }
    if (used > 0) chunks.splice(0, used)
    this.buffered -= n
    return n
  }

  /** The end or a failure is known: a waiting read gets its answer (buffered bytes first) now. */
  private settle(): void {
    const into = this.intoWaiter
    if (into !== undefined) {
      this.intoWaiter = undefined
      const buffer = this.intoBuffer
      this.intoBuffer = noBuffer
      into(this.readIntoBuffered(buffer) ?? this.done())
    }
    const waiter = this.waiter
    if (waiter !== undefined) {
      this.waiter = undefined
      waiter(this.pullNow() ?? this.done())
    }
    if (this.queuedReads !== undefined) this.nextReads()
  }

  /** A read waits now (a `pull` or a `readInto`): another one waits for its turn. */
  private get waiting(): boolean {
    return this.waiter !== undefined || this.intoWaiter !== undefined
  }

  /** The waiting read was answered or interrupted: the reads waiting for their turn run again, in order. */
  private nextReads(): void {
    const queued = this.queuedReads
    if (queued === undefined) return
    this.queuedReads = undefined
    for (let i = 0; i < queued.length; i++) queued[i]!()
  }

  /** Makes a read wait for its turn: `resume(again)` runs it again then; the returned canceller leaves the line. */
  private queueRead<A>(
    resume: Resume<A, SocketError | Cause.Done>,
    again: Effect.Effect<A, SocketError | Cause.Done>
  ): Effect.Effect<void> {
    const entry = () => resume(again)
    ;(this.queuedReads ??= []).push(entry)
    return Effect.sync(() => {
      const queued = this.queuedReads
      if (queued === undefined) return
      const i = queued.indexOf(entry)
      if (i >= 0) queued.splice(i, 1)
    })
  }

  private startReading(): void {
    if (!this.reading && !this.ended && this.failure === undefined) {
      this.reading = true
      this.connection.readStart()
    }
  }

  // built on first use: an idle connection holds none of these
  private pullCache: Effect.Effect<NonEmptyReadonlyArray<Uint8Array>, SocketError | Cause.Done> | undefined = undefined
  private readsCache: Stream.Stream<Uint8Array, SocketError> | undefined = undefined

  /**
   * What a `pull` returns without waiting: the buffered batch, the failure or
   * the end; `undefined` when it must wait.
   */
  private pullNow(): Effect.Effect<NonEmptyReadonlyArray<Uint8Array>, SocketError | Cause.Done> | undefined {
    if (this.chunks.length > 0) {
      const out = this.take()
      this.startReading()
      return Effect.succeed(out)
    }
    if (this.failure !== undefined) return Effect.fail(this.failure)
    if (this.ended) return this.done()
    return undefined
  }

  get pull(): Effect.Effect<NonEmptyReadonlyArray<Uint8Array>, SocketError | Cause.Done> {
    if (this.pullCache !== undefined) return this.pullCache
    const pull: Effect.Effect<NonEmptyReadonlyArray<Uint8Array>, SocketError | Cause.Done> = Effect.suspend(() =>
      this.pullNow()
        ?? (this.waitPull ??= Effect.callback<NonEmptyReadonlyArray<Uint8Array>, SocketError | Cause.Done>(
          (resume) => {
            // asked again here: the fiber may have yielded since, and bytes, the
            // end or a failure may have arrived meanwhile with nobody waiting
            const now = this.pullNow()
            if (now !== undefined) return resume(now)
            // another read waits: this one takes its turn after it
            if (this.waiting) return this.queueRead(resume, pull)
            this.waiter = resume
            this.startReading()
            return this.cancelPull
          }
        ))
    )
    return (this.pullCache = pull)
  }

  /** The wait of a `pull`, made once per socket. */
  private waitPull: Effect.Effect<NonEmptyReadonlyArray<Uint8Array>, SocketError | Cause.Done> | undefined = undefined
  /** An interrupted `pull` forgets its waiter (one read waits at a time); the next in line reads. */
  private cancelPullCache: Effect.Effect<void> | undefined = undefined
  private get cancelPull(): Effect.Effect<void> {
    return (this.cancelPullCache ??= Effect.sync(() => {
      this.waiter = undefined
      this.nextReads()
    }))
  }

  // the function-valued members are bound on first use (they may be passed
  // around unbound, `Effect.forEach(chunks, socket.write)`): an idle
  // connection holds none of them
  private readIntoFn: ((buffer: Uint8Array) => Effect.Effect<number, SocketError | Cause.Done>) | undefined = undefined
  private writeAllFn: ((chunks: ReadonlyArray<Uint8Array>) => Effect.Effect<void, SocketError>) | undefined = undefined
  private writeFn: ((chunk: Uint8Array | string) => Effect.Effect<void, SocketError>) | undefined = undefined

  get readInto(): (buffer: Uint8Array) => Effect.Effect<number, SocketError | Cause.Done> {
    if (this.readIntoFn === undefined) {
      // every read is copied into the caller's buffer: the driver may lend its own
      this.connection.borrowReads()
      this.readIntoFn = (buffer) => this.readIntoNow(buffer)
    }
    return this.readIntoFn
  }

  get writeAll(): (chunks: ReadonlyArray<Uint8Array>) => Effect.Effect<void, SocketError> {
    return (this.writeAllFn ??= (chunks) => this.writeAllNow(chunks))
  }

  get write(): (chunk: Uint8Array | string) => Effect.Effect<void, SocketError> {
    return (this.writeFn ??= (chunk) => this.writeAllNow([typeof chunk === "string" ? encodeUtf8(chunk) : chunk]))
  }

  get setNoDelay(): (enable: boolean) => Effect.Effect<void> {
    return (enable) => Effect.sync(() => this.connection.setNoDelay(enable))
  }

  get setKeepAlive(): (enable: boolean, initialDelay?: Duration.Input) => Effect.Effect<void, SocketError> {
    return (enable, initialDelay) => this.setKeepAliveNow(enable, initialDelay)
  }

  /**
   * What a `readInto(buffer)` returns without waiting: the count of buffered
   * bytes copied, the failure or the end; `undefined` when it must wait.
   */
  private readIntoBuffered(buffer: Uint8Array): Effect.Effect<number, SocketError | Cause.Done> | undefined {
    if (this.chunks.length > 0) {
      const n = this.drainInto(buffer)
      // a buffer smaller than what waits leaves bytes buffered: read on only below the mark
      if (this.buffered < this.readHighWaterMark) this.startReading()
      return Effect.succeed(n)
    }
    if (this.failure !== undefined) return Effect.fail(this.failure)
    if (this.ended) return this.done()
    return undefined
  }

  private readIntoNow(buffer: Uint8Array): Effect.Effect<number, SocketError | Cause.Done> {
    return Effect.suspend(() => {
      if (buffer.length === 0) return Effect.succeed(0)
      const now = this.readIntoBuffered(buffer)
      if (now !== undefined) return now
      // the buffer reaches the socket's one wait through `intoNext`, which
      // its wait takes at once; another readInto between its check and its
      // wait (the fiber may yield in between) makes this one wait with a
      // wait of its own
      if (this.intoNext !== noBuffer) {
        return Effect.callback<number, SocketError | Cause.Done>((resume) => this.waitInto(resume, buffer))
      }
      this.intoNext = buffer
      return (this.waitIntoCache ??= Effect.callback<number, SocketError | Cause.Done>((resume) => {
        const next = this.intoNext
        this.intoNext = noBuffer
        return this.waitInto(resume, next)
      }))
    })
  }

  /** A `readInto(buffer)` waits: answered now, in line behind another waiting read, or the waiting read. */
  private waitInto(resume: Resume<number, SocketError | Cause.Done>, buffer: Uint8Array): Effect.Effect<void> | void {
    // asked again here: the fiber may have yielded since
    const again = this.readIntoBuffered(buffer)
    if (again !== undefined) return resume(again)
    if (this.waiting) return this.queueRead(resume, this.readIntoNow(buffer))
    this.intoBuffer = buffer
    this.intoWaiter = resume
    this.startReading()
    return this.cancelInto
  }

  /** The wait of a `readInto` (its buffer comes through `intoNext`), made once per socket. */
  private waitIntoCache: Effect.Effect<number, SocketError | Cause.Done> | undefined = undefined
  /** An interrupted `readInto` forgets its waiter (one read waits at a time); the next in line reads. */
  private cancelIntoCache: Effect.Effect<void> | undefined = undefined
  private get cancelInto(): Effect.Effect<void> {
    return (this.cancelIntoCache ??= Effect.sync(() => {
      this.intoWaiter = undefined
      this.intoBuffer = noBuffer
      this.nextReads()
    }))
  }

  get reads(): Stream.Stream<Uint8Array, SocketError> {
    return (this.readsCache ??= Stream.fromPull(Effect.succeed(this.pull)))
  }

  private writeAllNow(chunks: ReadonlyArray<Uint8Array>): Effect.Effect<void, SocketError> {
    return Effect.suspend(() => this.writeFrom(chunks, 0, 0))
  }

  /**
   * Writes `chunks` from byte `offset` of chunk `index` on, in pieces that
   * keep what is queued below the face at most about the write high-water
   * mark, whatever the size of the batch. A piece is the whole chunks that
   * fit in the room left under the mark, at least one chunk; a chunk larger
   * than the mark is cut into views of the room (no byte is copied). Each
   * piece is issued at once; once one leaves the queue at or above the mark,
   * the writer waits until it completes before issuing the next. A batch that
   * fits goes out as one vectored write, as it came.
   */
  private writeFrom(
    chunks: ReadonlyArray<Uint8Array>,
    index: number,
    offset: number
  ): Effect.Effect<void, SocketError> {
    const connection = this.connection
    const mark = this.writeHighWaterMark
    while (true) {
      if (this.writeFailure !== undefined) return Effect.fail(this.writeFailure)
      if (index >= chunks.length) return Effect.void
      // writing after the end of output or after a close: refused here, the read side keeps going
      if (connection.closed || connection.writeEnded) {
        return Effect.fail(this.writeFailure = toSocketError(writeAfterEnd))
      }
      const room = mark - connection.queuedBytes
      let end = index
      let size = 0
      let cut = 0
      while (end < chunks.length) {
        const length = chunks[end]!.length - (end === index ? offset : 0)
        if (size + length > room) {
          if (end > index) break
          // the first chunk does not fit: whole if it is no larger than the mark, else a view of the room
          if (length > mark) cut = room > 0 ? room : mark
        }
        if (cut > 0) break
        size += length
        end++
        if (size >= room) break
      }
      let piece: ReadonlyArray<Uint8Array>
      if (cut > 0) {
        piece = [chunks[index]!.subarray(offset, offset + cut)]
        offset += cut
        if (offset >= chunks[index]!.length) {
          index++
          offset = 0
        }
      } else {
        if (index === 0 && offset === 0 && end === chunks.length) piece = chunks
        else {
          const part = chunks.slice(index, end)
          if (offset > 0) part[0] = part[0]!.subarray(offset)
          piece = part
        }
        index = end
        offset = 0
      }
      let completed: Effect.Effect<void, SocketError> | undefined
      let resume: Resume<void, SocketError> | undefined
      connection.write(piece, (error) => {
        completed = error === undefined ? Effect.void : Effect.fail(this.writeFailed(error))
        if (resume !== undefined) resume(completed)
      })
      // refused at once (the connection was reset)
      if (completed !== undefined && this.writeFailure !== undefined) return completed
      if (completed !== undefined || connection.queuedBytes < mark) continue
      // at or above the mark: wait until this piece is handed to the platform
      const wait = Effect.callback<void, SocketError>((r) => {
        if (completed !== undefined) r(completed)
        else resume = r
      })
      if (index >= chunks.length) return wait
      const nextIndex = index
      const nextOffset = offset
      return Effect.flatMap(wait, () => this.writeFrom(chunks, nextIndex, nextOffset))
    }
  }

  get writes(): Sink.Sink<void, Uint8Array, never, SocketError> {
    return Sink.forEachArray(this.writeAll)
  }

  get endOfOutput(): Effect.Effect<void, SocketError> {
    return Effect.callback<void, SocketError>((resume) => {
      if (this.writeFailure !== undefined) {
        resume(Effect.fail(this.writeFailure))
        return
      }
      this.connection.shutdown((error) => resume(error === undefined ? Effect.void : Effect.fail(toSocketError(error))))
    })
  }

  get bytesRead(): Effect.Effect<number> {
    return Effect.sync(() => this.connection.bytesRead)
  }
  get bytesWritten(): Effect.Effect<number> {
    return Effect.sync(() => this.connection.bytesWritten)
  }
  get bufferedBytes(): Effect.Effect<number> {
    return Effect.sync(() => this.buffered)
  }
  get queuedBytes(): Effect.Effect<number> {
    return Effect.sync(() => this.connection.queuedBytes)
  }

  private setKeepAliveNow(enable: boolean, initialDelay?: Duration.Input): Effect.Effect<void, SocketError> {
    const ms = initialDelay === undefined ? 0 : millisOrMessage("initialDelay", initialDelay)
    if (typeof ms !== "number") {
      const detail = ms ?? `initialDelay: expected a finite duration, got ${String(initialDelay)}`
      return Effect.fail(new SocketError(invalidOptions("setKeepAlive", detail)))
    }
    return Effect.sync(() => this.connection.setKeepAlive(enable, ms))
  }

  /**
   * `true` when `error` is how the peer or the network ended this connection:
   * the end of input this socket's reader reached, or the failure its reads
   * or writes raised with one of the {@link peerReasons}.
   */
  endedByPeer(error: unknown): boolean {
    if (Cause.isDone(error)) return this.endSeen
    return error !== undefined && (error === this.failure || error === this.writeFailure)
      && peerReasons.has((error as SocketError).reason)
  }

  /**
   * Flush, FIN, release, bounded by the close timeout; on failure or
   * interruption, RST. Reports the byte counts to the metrics.
   */
  readonly release = (exit: Exit.Exit<unknown, unknown>): Effect.Effect<void> =>
    Effect.withFiber((fiber) =>
      Effect.callback<void>((resume) => {
        const connection = this.connection
        const done = () => {
          Observability.closedUnsafe(connection.bytesRead, connection.bytesWritten, fiber.context)
          resume(Effect.void)
        }
        this.failure ??= scopeClosed()
        this.writeFailure ??= this.failure
        this.settle()
        if (connection.closed) return done()
        if (Exit.isFailure(exit)) return connection.reset(done)
        connection.end(this.closeTimeoutMs, done)
      })
    )
}

/**
 * Wraps an engine connection as a `Socket` living in its own scope, a child of
 * `parent`. Used by `Network` and `Server`; applications rarely call it.
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (
  connection: Connection,
  parent: Scope.Scope,
  options?: SocketOptions
): Effect.Effect<Socket> =>
  // one fiber step and one finalizer registration per connection
  Effect.withFiber((fiber) => {
    const scope = Scope.forkUnsafe(parent)
    const socket = new SocketImpl(connection, scope, options)
    Observability.openedUnsafe(fiber.context)
    return Effect.as(Scope.addFinalizerExit(scope, socket.release), socket)
  })

/**
 * Runs `f` with the socket and closes the socket when `f` ends: gracefully
 * when it succeeds, with RST when it fails or is interrupted. Data-first
 * (`Socket.use(socket, f)`) or data-last (`Socket.use(f)`, for a pipeline).
 *
 * `f`'s failure is `use`'s failure, the peer's reset included: to serve
 * connections, `Server.serve` keeps serving when one fails (see
 * {@link isPeerEnd} for a hand-written accept loop).
 *
 * @example
 * ```ts
 * import { Effect, Stream } from "effect"
 * import { Network, Socket } from "@sluice/core"
 *
 * // ask, read the whole answer, close: the socket closes when the exchange ends
 * const ask = (question: string) =>
 *   Effect.scoped(
 *     Effect.flatMap(
 *       Network.connect({ host: "127.0.0.1", port: 7000 }),
 *       Socket.use((socket) =>
 *         Effect.gen(function*() {
 *           yield* socket.write(question)
 *           yield* socket.endOfOutput
 *           return yield* Stream.mkString(Stream.decodeText(socket.reads))
 *         })
 *       )
 *     )
 *   )
 * ```
 *
 * @category combinators
 * @since 0.1.0
 */
export const use: {
  <A, E, R>(f: (socket: Socket) => Effect.Effect<A, E, R>): (socket: Socket) => Effect.Effect<A, E, R>
  <A, E, R>(socket: Socket, f: (socket: Socket) => Effect.Effect<A, E, R>): Effect.Effect<A, E, R>
} = dual(
  2,
  <A, E, R>(socket: Socket, f: (socket: Socket) => Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.onExit(Effect.suspend(() => f(socket)), (exit) => Scope.close(socket.scope, exit))
)

/** How a live connection fails when the peer or the path ended it (not `Closed`: our own scope). */
const peerReasons: ReadonlySet<SocketError["reason"]> = new Set([
  "ConnectionReset",
  "BrokenPipe",
  "ConnectionAborted",
  "TimedOut",
  "NetworkUnreachable",
  "HostUnreachable"
])

/**
 * `true` when `error` is how the other side ended this socket's connection,
 * not a failure of the code using it.
 *
 * **Details**
 *
 * Two kinds of error qualify, and only when this socket raised them itself
 * (the same value its `reads`, `pull`, `readInto` or writes failed with, not
 * a copy, a wrapper, or another socket's error):
 *
 * - the clean end of input (`Cause.Done`) once this socket's reader reached
 *   it: a handler that pulls after the peer half-closed;
 * - a `SocketError` this connection failed with underneath, whose reason is
 *   `ConnectionReset` (the peer or the network reset it), `BrokenPipe` (a
 *   write after the peer closed), `ConnectionAborted`, `TimedOut` (the idle
 *   timeout, or the kernel's retransmission timeout), `NetworkUnreachable`
 *   or `HostUnreachable`.
 *
 * Everything else is not: `Closed` (the socket's own scope was closed), an
 * `InvalidOptions`, an `Unknown` driver error, any other value. This is the
 * rule `Server.serve` uses to tell a peer's end from a handler's failure.
 *
 * @example
 * ```ts
 * import { Effect, Stream } from "effect"
 * import { Server, Socket } from "@sluice/core"
 *
 * declare const server: Server.Server
 * // one connection at a time; a client that resets ends only its own connection
 * const program = server.accept.pipe(
 *   Stream.runForEach((socket) =>
 *     Socket.use(socket, (s) => Stream.run(s.reads, s.writes)).pipe(
 *       Effect.catchIf((error) => Socket.isPeerEnd(socket, error), () => Effect.void)
 *     )
 *   )
 * )
 * ```
 *
 * @category guards
 * @since 0.1.0
 */
export const isPeerEnd = (socket: Socket, error: unknown): boolean =>
  socket instanceof SocketImpl && socket.endedByPeer(error)

/**
 * STARTTLS's hand-over (see `Tls.upgrade`): stops the socket's reading and
 * takes the bytes it read that nobody pulled yet, or the error that rules the
 * upgrade out (the socket failed or its peer ended).
 *
 * @category internals
 * @since 0.1.0
 */
export const handOver = (
  socket: Socket
): { readonly unread: ReadonlyArray<Uint8Array>; readonly resume: () => void } | SocketError =>
  socket instanceof SocketImpl
    ? socket.handOver()
    : new SocketError(invalidOptions("upgrade", "expected a socket made by Sluice's Network"))

/**
 * `true` when the value is a `Socket`.
 *
 * @category guards
 * @since 0.1.0
 */
export const isSocket = (u: unknown): u is Socket => typeof u === "object" && u !== null && TypeId in u
