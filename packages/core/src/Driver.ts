/**
 * The platform boundary of Sluice.
 *
 * A driver is a small, callback-based handle interface modelled on what Node's
 * `net.js` asks of a libuv handle. It owns no policy: half-close, timeouts,
 * buffering limits, connection limits and error classification belong to the
 * engine (`Engine.ts`).
 *
 * Two drivers exist: `@sluice/node-adapter` (real sockets over `node:net`) and
 * the in-memory network of `MemoryNetwork.ts`. Both keep the contract below;
 * the behaviour suite (`packages/core/test`) runs on both.
 *
 * **The contract**
 *
 * - A driver method never throws. Every failure is a {@link DriverError}
 *   (errno-style `code`, normalised by the driver) passed to a callback.
 * - Every completion callback runs exactly once, and never after its
 *   operation was cancelled (`connect`, `lookup` return a canceller).
 * - Callbacks that may run before the call that triggered them returns (as
 *   `node:net` does):
 *   - `listen`'s, when a bind on every interface, a path or a descriptor
 *     succeeds (the address is readable at once). A failed bind, and a bind on
 *     a host name (looked up first), report on a later turn. A bind on an IP
 *     address: the memory driver reports it at once; `node:net` looks even an
 *     IP address up first, so the node driver reports it on a later turn;
 *   - `Handle.write`'s, when the platform refuses the write at once (the
 *     handle has seen the peer's RST: `ECONNRESET` or `EPIPE`);
 *   - `Handle.shutdown`'s, when there is nothing left to do (the node driver,
 *     once the write side has finished or the socket is gone).
 * - `connect`'s, when the local address or port it was asked to bind
 *   cannot be bound (`syscall: "bind"`): a driver that binds inside `connect`
 *   reports that at once, before any dial (see {@link DialHooks}); and when
 *   the platform refuses a local socket path at once (as libuv does for a
 *   path with a NUL byte or one too long).
 * - Callbacks that never run inside the triggering call: `connect`'s
 *   otherwise, `lookup`'s, `Handle.close`'s and `Handle.reset`'s (the handle is released
 *   on a later turn, as a libuv close is), `ListenerHandle.close`'s, every
 *   {@link HandleEvents} and {@link ListenerEvents} callback, and
 *   {@link Timers} callbacks. A successful `write` completes on a later turn.
 * - After `close` or `reset` the memory driver delivers no more events; an
 *   event the node driver had already queued may still arrive, and the
 *   engine ignores it.
 *
 * @since 0.1.0
 */

/**
 * A failure reported by a driver: an errno-style `code` (`"ECONNREFUSED"`),
 * the platform's numeric `errno` when known, and the system call that failed.
 *
 * @category models
 * @since 0.1.0
 */
export interface DriverError {
  readonly code: string
  readonly errno?: number | undefined
  readonly syscall: string
  readonly address?: string | undefined
  readonly port?: number | undefined
  /**
   * A connect that failed within the connect system call itself, not on a
   * later turn (libuv refused the dial at once, after the local bind):
   * node:net reports no failed attempt for it when it dials one address,
   * and names the local end the socket was bound to ({@link local}).
   */
  readonly immediate?: boolean | undefined
  /** With {@link immediate}: the local end the socket was bound to, where the platform says. */
  readonly local?: Endpoint | undefined
  /** Native error or description, kept for diagnostics. */
  readonly cause?: unknown
}

/**
 * The address family of an IP socket.
 *
 * @category models
 * @since 0.1.0
 */
export type Family = "IPv4" | "IPv6"

/**
 * The address of one end of a connection or of a listener.
 *
 * @category models
 * @since 0.1.0
 */
export type Endpoint = TcpEndpoint | IpcEndpoint

/**
 * The address of a TCP end or listener: IP address, port and family.
 *
 * @category models
 * @since 0.1.0
 */
export type TcpEndpoint = {
  readonly _tag: "Tcp"
  readonly address: string
  readonly port: number
  readonly family: Family
}

/**
 * The address of a local (Unix-domain / named-pipe) end or listener: its path.
 *
 * @category models
 * @since 0.1.0
 */
export type IpcEndpoint = { readonly _tag: "Ipc"; readonly path: string }

/**
 * What the engine hands a driver to dial: a resolved IP address and port, or a
 * local socket path.
 *
 * @category models
 * @since 0.1.0
 */
export type ConnectTarget =
  | {
    readonly _tag: "Tcp"
    readonly address: string
    readonly port: number
    readonly family: 4 | 6
    readonly localAddress?: string | undefined
    readonly localPort?: number | undefined
  }
  | { readonly _tag: "Ipc"; readonly path: string }

/**
 * What the engine hands a driver to listen on.
 *
 * @category models
 * @since 0.1.0
 */
export type ListenTarget =
  | {
    readonly _tag: "Tcp"
    /**
     * An IP address, or a host name the driver resolves first (the bind is
     * then reported on a later turn); `undefined` means every interface
     * (dual-stack where possible).
     */
    readonly host: string | undefined
    readonly port: number
    readonly backlog: number
    readonly exclusive: boolean
    readonly ipv6Only: boolean
    readonly reusePort: boolean
  }
  | {
    readonly _tag: "Ipc"
    readonly path: string
    readonly backlog: number
    readonly exclusive: boolean
    readonly readableAll: boolean
    readonly writableAll: boolean
    /**
     * When the path is taken by a socket file nobody listens on (a stale file
     * left by a crashed process), remove it and listen. A path somebody
     * listens on is never removed. Drivers without a file system ignore it.
     */
    readonly removeStale?: boolean | undefined
  }
  | { readonly _tag: "Fd"; readonly fd: number; readonly backlog: number }

/**
 * The callbacks a driver calls on an open handle. The engine installs them
 * with {@link Handle.bind} before it starts reading. A driver calls them as
 * methods of the object it was given (`events.onData(chunk)`): the engine's
 * connection is that object, with its callbacks on its prototype.
 *
 * @category models
 * @since 0.1.0
 */
export interface HandleEvents {
  /**
   * Bytes arrived. Without `borrowed` (or with `false`) the chunk is owned by
   * the receiver from now on. With `borrowed: true` it is a view of the
   * driver's read buffer, valid only until `onData` returns (the driver reads
   * the next bytes into the same memory): the receiver copies what it keeps.
   * Borrowed reads let a driver read every connection into one reused buffer
   * and let a reader that copies into its own buffer allocate nothing per read.
   */
  readonly onData: (chunk: Uint8Array, borrowed?: boolean) => void
  /** The peer sent FIN: no more bytes will arrive. */
  readonly onEnd: () => void
  /** Reading failed (for example `ECONNRESET`). No more events follow. */
  readonly onError: (error: DriverError) => void
}

/**
 * How text written to a {@link Handle} is encoded: UTF-8 (lone surrogates as
 * U+FFFD), or Latin-1 (each code unit's low byte).
 *
 * @category models
 * @since 0.1.0
 */
export type TextEncoding = "utf8" | "latin1"

/**
 * An open stream handle: one end of a TCP or local connection.
 *
 * @category models
 * @since 0.1.0
 */
export interface Handle {
  /**
   * Installs the receiver's callbacks, before `readStart`. A layer that takes
   * the handle over (TLS: the connection then reads the layer's plaintext)
   * calls it again: the events go to the latest receiver from then on.
   */
  bind(events: HandleEvents): void
  /**
   * Optional: the receiver copies every read into memory of its own from now
   * on, so the driver may hand reads over borrowed (see
   * {@link HandleEvents.onData}), from one buffer it reuses. A hint: a driver
   * decides what it hands over, and the receiver takes both kinds either way.
   */
  borrowReads?(): void
  /** Start (or resume) delivering `onData` / `onEnd` / `onError`. */
  readStart(): void
  /** Stop delivering data: the kernel buffers fill up and the peer's writes block. */
  readStop(): void
  /**
   * Queue chunks for sending. `callback` runs once all of them were handed to
   * the platform, with the error if the write failed. A write the platform
   * refuses at once (the connection was reset) is reported synchronously.
   * Returns `true` when the platform took every byte at once: nothing of the
   * write stays queued, and its callback (still on a later turn) reports
   * success. A driver may always return nothing.
   */
  write(chunks: ReadonlyArray<Uint8Array>, callback: (error: DriverError | undefined) => void): boolean | void
  /**
   * Optional: as `write`, with text among the chunks, handed to the platform
   * as it is (libuv's string writes encode it straight into the kernel's
   * buffer, where a conversion first would allocate a copy per write). Every
   * string is in `encoding`. Without it the engine encodes the text and calls
   * `write`.
   */
  writeText?(
    chunks: ReadonlyArray<Uint8Array | string>,
    encoding: TextEncoding,
    callback: (error: DriverError | undefined) => void
  ): boolean | void
  /** Bytes accepted by `write` and not yet handed to the platform. */
  readonly writeQueueSize: number
  /**
   * Send FIN once queued writes are flushed (half-close). `callback` runs
   * once the FIN left; it may run synchronously when the write side is
   * already shut or the handle is gone.
   */
  shutdown(callback: (error: DriverError | undefined) => void): void
  /**
   * Release the handle. Unsent data may be lost; the peer sees FIN (RST when
   * unread data was left, as a kernel does). `callback` runs on a later turn.
   */
  close(callback: () => void): void
  /** Abort the connection: the peer sees RST. Releases the handle; `callback` runs on a later turn. */
  reset(callback: () => void): void
  /**
   * Optional: the engine is closing the handle gracefully, after a
   * `shutdown`: the FIN waits for the queued writes for at most `graceMs` of
   * the driver's time (`Timers`), then the handle is reset. A driver whose
   * time can stand still (the memory network under `TestClock`) uses it to
   * notice a close that only time would end. A hint: it changes nothing.
   */
  closing?(graceMs: number): void
  localEndpoint(): Endpoint | undefined
  remoteEndpoint(): Endpoint | undefined
  setNoDelay(enable: boolean): void
  setKeepAlive(enable: boolean, initialDelayMs: number): void
  ref(): void
  unref(): void
  /**
   * Optional: the platform's descriptor of the connection (a libuv handle's
   * `fd`), -1 when it has none or it was closed. A driver without
   * descriptors (the memory network) leaves it out.
   */
  fd?(): number
}

/**
 * The callbacks a driver calls on a listener.
 *
 * @category models
 * @since 0.1.0
 */
export interface ListenerEvents {
  /** A connection was accepted. The handle is paused: nothing is read before `readStart`. */
  readonly onConnection: (handle: Handle) => void
  /** Accepting failed (for example `EMFILE`); the listener stays open. */
  readonly onError: (error: DriverError) => void
  /**
   * Optional: `true` while a connection accepted now would be dropped (the
   * engine's `maxConnections` is reached). A driver that can leave a
   * connection to another process instead of accepting it asks before it
   * accepts (Node's cluster round-robin hands it to another worker).
   */
  readonly full?: (() => boolean) | undefined
}

/**
 * A bound, listening server handle.
 *
 * @category models
 * @since 0.1.0
 */
export interface ListenerHandle {
  /** The bound address, exact (the real port when bound to port 0). */
  endpoint(): Endpoint
  /**
   * Stop listening; connections already accepted are not touched. `callback`
   * runs on a later turn, once the address is free.
   */
  close(callback: () => void): void
  ref(): void
  unref(): void
  /** Optional: the platform's descriptor of the listener (a libuv handle's `fd`), -1 when it has none. */
  fd?(): number
}

/**
 * One resolved address of a name lookup.
 *
 * @category models
 * @since 0.1.0
 */
export interface LookupAddress {
  readonly address: string
  readonly family: 4 | 6
}

/**
 * Options for a name lookup.
 *
 * @category models
 * @since 0.1.0
 */
export interface LookupOptions {
  readonly family: 0 | 4 | 6
  readonly hints: number
  readonly all: boolean
}

/**
 * A cancellable timer source. Node's driver uses real timers; the memory
 * network uses Effect's `Clock`, so `TestClock` drives it.
 *
 * @category models
 * @since 0.1.0
 */
export interface Timers {
  now(): number
  /**
   * Runs `f` after `ms` milliseconds unless the returned canceller runs
   * first. Any `ms` ≥ 0 is honoured, beyond the host's own timer limit too
   * (`setTimeout` fires a delay over 2^31 − 1 ms at once); `Infinity` never
   * fires.
   *
   * A pending timer does not keep the host's process alive by default (as
   * Node's socket timers: an idle timeout alone must not hold a process
   * open). With `keepAlive`, it does, as `Effect.sleep` or `Effect.timeout`
   * do: for a deadline someone waits on (the Effect face's connect
   * `timeout`), where nothing else may hold the process — a lookup that
   * never answers, a connect on the memory network.
   */
  schedule(ms: number, f: () => void, keepAlive?: boolean): () => void
}

/**
 * The longest delay a host `setTimeout` honours (2^31 − 1 ms, about 24.8
 * days): Node and browsers run a longer one at once.
 *
 * @category constants
 * @since 0.1.0
 */
export const maxTimerDelay = 2_147_483_647

/**
 * The `setTimeout` and `clearTimeout` of a host (`globalThis`).
 *
 * @category models
 * @since 0.1.0
 */
export interface TimerHost {
  setTimeout(f: () => void, ms: number): unknown
  clearTimeout(timer: unknown): void
}

const noop = (): void => {}

/**
 * {@link Timers} over a host's real timers and `Date.now`: a delay longer
 * than {@link maxTimerDelay} waits in steps, `Infinity` never fires, and a
 * pending timer does not keep a Node process alive (`unref` where it exists)
 * unless it is scheduled with `keepAlive`.
 *
 * @example
 * ```ts
 * import { Driver } from "@sluice/core"
 *
 * const timers = Driver.hostTimers(globalThis)
 * const cancel = timers.schedule(30 * 24 * 3600_000, () => console.log("30 days later"))
 * cancel()
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const hostTimers = (host: TimerHost): Timers => {
  const start = (f: () => void, ms: number, keepAlive: boolean): unknown => {
    const timer = host.setTimeout(f, ms) as { unref?: () => void }
    if (!keepAlive && typeof timer === "object" && timer !== null && typeof timer.unref === "function") timer.unref()
    return timer
  }
  return {
    now: () => Date.now(),
    schedule: (ms, f, keepAlive = false) => {
      if (!(ms < Infinity)) return noop
      if (ms <= maxTimerDelay) {
        const timer = start(f, Math.max(0, ms), keepAlive)
        return () => host.clearTimeout(timer)
      }
      let left = ms
      let timer: unknown
      const step = (): void => {
        if (left <= maxTimerDelay) {
          timer = start(f, left, keepAlive)
        } else {
          left -= maxTimerDelay
          timer = start(step, maxTimerDelay, keepAlive)
        }
      }
      step()
      return () => host.clearTimeout(timer)
    }
  }
}

/**
 * What a driver can and cannot do. The engine answers with a typed
 * `Unsupported` error instead of calling a missing capability.
 *
 * @category models
 * @since 0.1.0
 */
export interface Capabilities {
  /** Local (Unix-domain / named-pipe) sockets by path. */
  readonly ipc: boolean
  /** Listening on, and adopting a connection from, an inherited file descriptor (`Driver.open`). */
  readonly fd: boolean
  /** Several listeners sharing one address and port (`SO_REUSEPORT`). */
  readonly reusePort: boolean
  /** IPv6 addresses. */
  readonly ipv6: boolean
  /**
   * The getaddrinfo flags (`LookupOptions.hints`) the driver's name lookup
   * knows, as a bit mask: `connect` refuses other bits as `InvalidOptions`.
   * Absent: the lookup takes any hints (and may ignore them).
   */
  readonly lookupHints?: number | undefined
}

/**
 * A connect attempt in flight, as `Driver.connect` returns it: calling it
 * cancels the attempt. `local`, where the driver has it, reads the local
 * address the platform bound for the attempt (a kernel binds it when the
 * connect system call is made, before the handshake completes); `undefined`
 * before that, or on a local socket.
 *
 * @category models
 * @since 0.1.0
 */
export interface PendingConnect {
  (): void
  readonly local?: (() => Endpoint | undefined) | undefined
  /**
   * `true` from a driver that took the {@link DialHooks} but dials on a later
   * turn (a `net.Socket` binds and dials after `connect` returns): it calls
   * `beforeDial` then, after the bind and before the connect system call,
   * and the engine does not announce the attempt itself.
   */
  readonly announcesLater?: boolean | undefined
}

/**
 * What the engine asks of a dial, for a driver that can tell it (optional:
 * a driver that leaves it out dials as it likes, and the engine announces the
 * attempt itself once `connect` returns).
 *
 * @category models
 * @since 0.1.0
 */
export interface DialHooks {
  /**
   * Called once, synchronously inside `connect` (or, from a driver whose
   * `PendingConnect` says `announcesLater`, on the later turn it dials), after
   * the local address asked for was bound and just before the connect system
   * call (as Node's `internalConnect` emits `'connectionAttempt'` between the two).
   * Returning `false` abandons the attempt before the system call: the
   * handle is released and the callback never runs.
   */
  readonly beforeDial: () => boolean
}

/**
 * A platform driver.
 *
 * @category models
 * @since 0.1.0
 */
export interface Driver {
  readonly name: string
  readonly capabilities: Capabilities
  readonly timers: Timers
  /**
   * Dial a resolved target. The callback runs once, on a later turn, with the
   * connected handle (paused, as an accepted one) or the error; a local
   * address or port that cannot be bound (`syscall: "bind"`), or a local
   * socket path the platform refuses, may be reported at once, before
   * `connect` returns. The returned function cancels a
   * pending attempt: the callback then never runs and nothing stays open
   * (see `PendingConnect` for its optional `local`). A driver that takes
   * `hooks` calls them as {@link DialHooks} says.
   */
  connect(
    target: ConnectTarget,
    callback: (error: DriverError | undefined, handle: Handle | undefined) => void,
    hooks?: DialHooks
  ): PendingConnect
  /**
   * Bind and listen. The callback runs once, with the listener or the error:
   * synchronously when a bind without a host, on a path or on a descriptor
   * succeeds (as `node:net`, whose address is then readable as soon as
   * `listen` returns), on a later turn when it fails or when `target.host` is
   * looked up first (see the module's contract for IP addresses).
   */
  listen(
    target: ListenTarget,
    events: ListenerEvents,
    callback: (error: DriverError | undefined, listener: ListenerHandle | undefined) => void
  ): void
  /**
   * Adopt an open file descriptor: a connected stream socket (TCP or local)
   * the process inherited or was handed. Only drivers whose
   * `capabilities.fd` is `true` have it. The callback runs once, before
   * `open` returns (as a libuv `open`), with the handle (paused, as an
   * accepted one) or the error: `ERR_INVALID_FD_TYPE` when the descriptor is
   * not a stream socket or pipe (or not open) — then `address` names what it
   * is, with libuv's handle type names (`"FILE"`, `"TTY"`, `"UDP"`,
   * `"UNKNOWN"`) — or the errno of a failed `open`. On success the handle
   * owns the descriptor: closing it closes the descriptor.
   */
  open?(fd: number, callback: (error: DriverError | undefined, handle: Handle | undefined) => void): void
  /**
   * Optional: adopt a connected stream handle of the platform's own (on
   * Node, a libuv `TCP` or `Pipe` wrap, as `new net.Socket({ handle })`
   * takes one: an accepted connection a server's `onconnection` or a parent
   * process handed over). The callback runs once, before `adopt` returns,
   * with the handle (paused, as an accepted one) or the error:
   * `ERR_INVALID_HANDLE_TYPE` when `handle` is not one the driver knows. On
   * success the returned handle owns the platform's.
   */
  adopt?(handle: unknown, callback: (error: DriverError | undefined, handle: Handle | undefined) => void): void
  /**
   * Resolve a host name. The callback runs once, on a later turn; the
   * returned function cancels (the callback then never runs).
   */
  lookup(
    hostname: string,
    options: LookupOptions,
    callback: (error: DriverError | undefined, addresses: ReadonlyArray<LookupAddress>) => void
  ): () => void
}
