/**
 * Connections over Node's libuv stream handles themselves, without a
 * `net.Socket` on top.
 *
 * The driver contract (`@sluice/core/Driver`) is modelled on what Node's
 * `lib/net.js` asks of a libuv handle (`readStart`/`readStop`, `writeBuffer`
 * and `writev` with a completion, `shutdown`, `close`, `reset`,
 * `getsockname`/`getpeername`, `setNoDelay`/`setKeepAlive`, `ref`/`unref`),
 * so a driver handle maps onto the libuv handle one call for one call. Going
 * through a `net.Socket` instead costs a whole `stream.Duplex` per
 * connection (its memory, its construction, its `Readable`/`Writable`
 * machinery per chunk) on top of the engine's own state: raw handles let a
 * connection cost what node:net's does, or less.
 *
 * node:net's accept path hands the listening handle's `onconnection` the
 * accepted handle (see `NodeDriver.ts`); connects make a handle here. The
 * request objects a write, a shutdown and a connect need (`WriteWrap`,
 * `ShutdownWrap`, `TCPConnectWrap`, `PipeConnectWrap`) and the shared state a
 * read reports its byte count in come from the handles' bindings, reached
 * through `process.binding`, the documented (DEP0111, documentation-only)
 * compatibility entry to them. Everything is feature-detected once: when a
 * binding or a member is missing or not the runtime's own (native) function
 * (Bun has no such bindings; Deno imitates some in JavaScript), or the process runs with
 * `--pending-deprecation` or `NODE_PENDING_DEPRECATION=1` (which warn on
 * `process.binding`), {@link bindings}
 * is `undefined` and the driver uses `net.Socket` as before.
 *
 * @internal
 */
import { isIP } from "@sluice/core/Address"
import type {
  ConnectTarget,
  DialHooks,
  DriverError,
  Endpoint,
  Handle,
  HandleEvents,
  PendingConnect,
  TextEncoding
} from "@sluice/core/Driver"
import type * as Net from "node:net"

// as `require` gives them: an ESM import of node:util reads (and so loads) every lazy export
const util = process.getBuiltinModule("node:util")
const net = process.getBuiltinModule("node:net")

/** The completion a write or a shutdown request reports to. */
interface Req {
  handle: StreamWrap
  oncomplete: (this: Req, status: number) => void
  callback: ((error: DriverError | undefined) => void) | undefined
  /** Keeps an asynchronous write's chunks alive until it completes. */
  buffer?: ReadonlyArray<Uint8Array | string> | Uint8Array | string | null
}

/** A connect request: `oncomplete(status, handle, req, readable, writable)`. */
interface ConnectReq {
  oncomplete: (status: number, handle: StreamWrap, req: ConnectReq, readable: boolean, writable: boolean) => void
  address: string
  port?: number
  localAddress?: string | undefined
  localPort?: number | undefined
}

/** What a libuv stream handle (`TCP`, `Pipe`) offers to JavaScript. */
export interface StreamWrap {
  onread: ((this: StreamWrap, arrayBuffer: unknown) => void) | null
  readStart(): number
  readStop(): number
  useUserBuffer(buffer: Uint8Array): void
  writeBuffer(req: Req, data: Uint8Array): number
  writev(req: Req, chunks: ReadonlyArray<Uint8Array | string>, allBuffers: boolean): number
  writeUtf8String?(req: Req, data: string): number
  writeLatin1String?(req: Req, data: string): number
  shutdown(req: Req): number
  close(callback: () => void): void
  reset?(callback: () => void): number
  getsockname?(out: Record<string, unknown>): number
  getpeername?(out: Record<string, unknown>): number
  setNoDelay?(enable: boolean): number
  setKeepAlive?(enable: boolean, delaySeconds: number): number
  bind?(address: string, port: number): number
  bind6?(address: string, port: number, flags: number): number
  connect(req: ConnectReq, address: string, port?: number): number
  connect6?(req: ConnectReq, address: string, port: number): number
  ref(): void
  unref(): void
  readonly writeQueueSize: number
  readonly fd?: number
  [owner]?: RawHandle
}

type Ctor<T> = new(...args: ReadonlyArray<unknown>) => T

/** The bindings raw handles need. */
export interface Bindings {
  readonly TCP: Ctor<StreamWrap>
  readonly Pipe: Ctor<StreamWrap>
  readonly TCPConnectWrap: Ctor<ConnectReq>
  readonly PipeConnectWrap: Ctor<ConnectReq>
  readonly WriteWrap: Ctor<Req>
  readonly ShutdownWrap: Ctor<Req>
  /** The `constants.SOCKET` argument of `new TCP` / `new Pipe`. */
  readonly tcpSocket: number
  readonly pipeSocket: number
  readonly state: Int32Array
  readonly kReadBytesOrError: number
  readonly kArrayBufferOffset: number
  readonly kLastWriteWasAsync: number
  /** `writeUtf8String`, `writeLatin1String` and `writev` with strings, as node:net writes text. */
  readonly stringWrites: boolean
}

type Loose = Record<string, unknown>

const fnToString = Function.prototype.toString

/**
 * A function of the runtime itself (`[native code]`), as Node's binding
 * constructors and their methods are. A runtime that imitates the bindings in
 * JavaScript (Deno's `process.binding` stand-in) hands out classes of its own,
 * which do not behave as libuv's handles do: those are not used.
 */
const isNative = (u: unknown): boolean => typeof u === "function" && fnToString.call(u).includes("[native code]")

const isCtor = isNative

const load = (): Bindings | undefined => {
  try {
    if (
      // with pending deprecations on, `process.binding` warns (DEP0111): keep to public API then
      process.execArgv.includes("--pending-deprecation") || /--pending-deprecation/.test(process.env.NODE_OPTIONS ?? "")
      || process.env.NODE_PENDING_DEPRECATION === "1"
    ) {
      return undefined
    }
    const binding = (process as unknown as { binding?: (name: string) => unknown }).binding
    if (typeof binding !== "function") return undefined
    const stream = binding.call(process, "stream_wrap") as Loose
    const tcp = binding.call(process, "tcp_wrap") as Loose
    const pipe = binding.call(process, "pipe_wrap") as Loose
    const tcpConstants = tcp.constants as Loose | undefined
    const pipeConstants = pipe.constants as Loose | undefined
    const state = stream.streamBaseState
    const ok = isCtor(tcp.TCP) && isCtor(tcp.TCPConnectWrap) && isCtor(pipe.Pipe) && isCtor(pipe.PipeConnectWrap)
      && isCtor(stream.WriteWrap) && isCtor(stream.ShutdownWrap) && state instanceof Int32Array
      && typeof stream.kReadBytesOrError === "number" && typeof stream.kArrayBufferOffset === "number"
      && typeof stream.kLastWriteWasAsync === "number"
      && typeof tcpConstants?.SOCKET === "number" && typeof pipeConstants?.SOCKET === "number"
    if (!ok) return undefined
    const TCP = tcp.TCP as Ctor<StreamWrap>
    const methods = ["readStart", "readStop", "useUserBuffer", "writeBuffer", "writev", "shutdown", "close", "reset"]
    if (!methods.every((m) => isNative((TCP.prototype as unknown as Loose)[m]))) return undefined
    return {
      TCP,
      Pipe: pipe.Pipe as Ctor<StreamWrap>,
      TCPConnectWrap: tcp.TCPConnectWrap as Ctor<ConnectReq>,
      PipeConnectWrap: pipe.PipeConnectWrap as Ctor<ConnectReq>,
      WriteWrap: stream.WriteWrap as Ctor<Req>,
      ShutdownWrap: stream.ShutdownWrap as Ctor<Req>,
      tcpSocket: tcpConstants.SOCKET as number,
      pipeSocket: pipeConstants.SOCKET as number,
      state,
      kReadBytesOrError: stream.kReadBytesOrError as number,
      kArrayBufferOffset: stream.kArrayBufferOffset as number,
      kLastWriteWasAsync: stream.kLastWriteWasAsync as number,
      stringWrites: ["writeUtf8String", "writeLatin1String"].every((m) =>
        isNative((TCP.prototype as unknown as Loose)[m])
      )
    }
  } catch {
    return undefined
  }
}

/** The bindings, or `undefined` where raw handles are not available (the driver then uses `net.Socket`). */
export const bindings: Bindings | undefined = load()

/** libuv's end-of-file status. */
const UV_EOF = -4095
/** `shutdown` on a socket that is not connected: node:net treats it as done. */
const UV_ENOTCONN = -107

/**
 * A driver error from a libuv status, shaped as node:net's own
 * (`ExceptionWithHostPort`): `address` when there is one, `port` when above
 * 0, and an `Error` with node:net's message as the cause.
 */
export const uvError = (status: number, syscall: string, address?: string, port?: number): DriverError => {
  let code: string
  try {
    code = util.getSystemErrorName(status)
  } catch {
    code = "UNKNOWN"
  }
  const where = address === undefined ? "" : port !== undefined && port > 0 ? ` ${address}:${port}` : ` ${address}`
  const cause = Object.assign(new Error(`${syscall} ${code}${where}`), { code, errno: status, syscall })
  return {
    code,
    errno: status,
    syscall,
    address,
    port: port !== undefined && port > 0 ? port : undefined,
    cause
  }
}

/**
 * The buffer raw handles read into once they lend their reads (see
 * {@link RawHandle.borrowReads}): each read is handed to the engine as a
 * borrowed view, valid until the callback returns (see
 * `HandleEvents.onData`), so one buffer serves every such connection.
 */
const readBuffer = new Uint8Array(65536)

/**
 * Reads below this size are cheaper copied out of {@link readBuffer} than
 * read into memory of their own (Node allocates 64 KiB for each read before
 * it knows the read's size, then a backing store of that size).
 */
const SMALL_READ = 4096
/** After this many small reads in a row a handle reads into {@link readBuffer}. */
const SMALL_READS_TO_LEND = 4

const owner: unique symbol = Symbol("sluice.rawHandle")

/**
 * A node handle that can hand its connection over to a TLS layer as a
 * `net.Socket` on the same libuv handle (the TLS layer then puts Node's
 * native TLS stream on it, as `tls.connect({ socket })` does): the handle
 * stops reading and delivers nothing more; the socket owns the connection.
 * `undefined` when it cannot (closed, failed, shut down): the TLS layer then
 * goes through the handle's own calls.
 */
export const takeOver: unique symbol = Symbol("sluice.takeOver")

/** A handle with {@link takeOver}. */
export interface TakeOver {
  [takeOver](callback: (socket: Net.Socket | undefined) => void): void
}

const noop = (): void => {}

function onRead(this: StreamWrap, arrayBuffer: unknown): void {
  const raw = this[owner]
  if (raw === undefined) return
  const b = bindings as Bindings
  const nread = b.state[b.kReadBytesOrError]!
  if (nread > 0) {
    if (raw.lent) raw.events.onData(readBuffer.subarray(0, nread), true)
    else {
      // read into memory of its own, which the receiver keeps without a copy;
      // the switch to the shared buffer is made here, between reads (where
      // libuv allocates a read ahead, as on Windows, none is in flight now)
      if (raw.lendAsked) raw.lend()
      else if (nread >= SMALL_READ) raw.smallReads = 0
      else if (++raw.smallReads >= SMALL_READS_TO_LEND) raw.lend()
      raw.events.onData(new Uint8Array(arrayBuffer as ArrayBuffer, b.state[b.kArrayBufferOffset]!, nread), false)
    }
  } else if (nread === UV_EOF) raw.events.onEnd()
  else if (nread < 0) raw.fail(uvError(nread, "read"))
}

function onWriteComplete(this: Req, status: number): void {
  const callback = this.callback
  this.callback = undefined
  this.buffer = null
  this.handle[owner]?.writeDone()
  callback?.(status < 0 ? uvError(status, "write") : undefined)
}

function onShutdownComplete(this: Req): void {
  const callback = this.callback
  this.callback = undefined
  this.handle[owner]?.shutdownDone()
  callback?.(undefined)
}

const completeLater = (callback: (error: DriverError | undefined) => void): void => callback(undefined)

/** A TCP endpoint from node's address fields (`getsockname`, a socket's `localAddress`…), when complete. */
export const tcpEndpoint = (address: unknown, port: unknown, family: unknown): Endpoint | undefined =>
  typeof address === "string" && typeof port === "number"
    ? { _tag: "Tcp", address, port, family: family === "IPv6" ? "IPv6" : "IPv4" }
    : undefined

const detached: HandleEvents = { onData: noop, onEnd: noop, onError: noop }

/**
 * A driver handle over a libuv stream handle: one call to the handle for each
 * call of the contract.
 *
 * Reads start as node:net's: Node reads each into memory of its own, handed
 * over owned, so a receiver that keeps chunks (a `'data'` listener, an echo)
 * takes them without a copy. A handle lends its reads instead, reading into
 * the one shared {@link readBuffer}, from the read after the receiver asks
 * for it ({@link borrowReads}: it copies every read into its own buffer
 * anyway) or once its reads stay small (a request/response protocol), whose
 * copies are cheaper than Node's 64 KiB allocation per read. The switch is
 * one-way, as libuv's user buffer is.
 */
export class RawHandle implements Handle, TakeOver {
  readonly handle: StreamWrap
  /** The path of a local socket; `undefined` for TCP. */
  private readonly path: string | undefined
  events: HandleEvents = detached
  private closed = false
  /** A TLS layer took the libuv handle over: it still answers address and option calls. */
  private detached = false
  /** Runs once the writes in flight completed (a take-over waits for them). */
  private afterWrites: (() => void) | undefined = undefined
  /** Asynchronous writes not completed yet. */
  private writesInFlight = 0
  /** 0: none; 1: asked, waiting for the writes in flight; 2: handed to libuv; 3: done. */
  private shutdownState: 0 | 1 | 2 | 3 = 0
  private shutdownWaiters: Array<(error: DriverError | undefined) => void> | undefined = undefined
  private failed = false
  /** Reads go into the shared {@link readBuffer} and are handed over borrowed. */
  lent = false
  /** The receiver asked for borrowed reads: the switch is made at the next read. */
  lendAsked = false
  /** Small owned reads in a row (see {@link SMALL_READS_TO_LEND}). */
  smallReads = 0

  constructor(handle: StreamWrap, path: string | undefined) {
    this.handle = handle
    this.path = path
    handle[owner] = this
  }

  bind(events: HandleEvents): void {
    this.events = events
    const h = this.handle
    h.onread = onRead
  }

  borrowReads(): void {
    this.lendAsked = true
  }

  /** @internal reads go into the shared buffer from now on (called between reads) */
  lend(): void {
    if (this.lent || this.closed) return
    this.lent = true
    this.handle.useUserBuffer(readBuffer)
  }

  /** A read failed: report once, stop reading. */
  fail(error: DriverError): void {
    if (this.failed || this.closed) return
    this.failed = true
    this.handle.readStop()
    this.events.onError(error)
  }

  readStart(): void {
    if (this.closed || this.failed) return
    const err = this.handle.readStart()
    // an error here is reported as node:net reports it: a read error, on a later turn
    if (err !== 0 && err !== undefined) process.nextTick(() => this.fail(uvError(err, "read")))
  }

  readStop(): void {
    if (!this.closed) this.handle.readStop()
  }

  write(chunks: ReadonlyArray<Uint8Array>, callback: (error: DriverError | undefined) => void): boolean {
    if (this.closed) {
      callback(uvError(-32, "write"))
      return false
    }
    const req = this.request(callback)
    const err = chunks.length === 1 ? this.handle.writeBuffer(req, chunks[0]!) : this.handle.writev(req, chunks, true)
    return this.dispatched(req, err, chunks.length === 1 ? chunks[0]! : chunks, callback)
  }

  /**
   * As node:net writes text: a string alone with `writeUtf8String` /
   * `writeLatin1String`, several chunks with `writev` given each chunk's
   * encoding; libuv encodes into the kernel's buffer, or copies once when the
   * write has to wait.
   */
  writeText(
    chunks: ReadonlyArray<Uint8Array | string>,
    encoding: TextEncoding,
    callback: (error: DriverError | undefined) => void
  ): boolean {
    if (this.closed) {
      callback(uvError(-32, "write"))
      return false
    }
    const b = bindings as Bindings
    if (!b.stringWrites) {
      const buffers = chunks.map((c) => (typeof c === "string" ? Buffer.from(c, encoding) : c))
      return this.write(buffers, callback)
    }
    const req = this.request(callback)
    let err: number
    let keep: ReadonlyArray<Uint8Array | string> | Uint8Array | string
    const first = chunks[0]!
    if (chunks.length === 1) {
      keep = first
      err = typeof first !== "string"
        ? this.handle.writeBuffer(req, first)
        : encoding === "utf8"
        ? this.handle.writeUtf8String!(req, first)
        : this.handle.writeLatin1String!(req, first)
    } else {
      const list = new Array<Uint8Array | string>(chunks.length * 2)
      for (let i = 0; i < chunks.length; i++) {
        const c = chunks[i]!
        list[i * 2] = c
        list[i * 2 + 1] = typeof c === "string" ? encoding : "buffer"
      }
      keep = list
      err = this.handle.writev(req, list, false)
    }
    return this.dispatched(req, err, keep, callback)
  }

  private request(callback: (error: DriverError | undefined) => void): Req {
    const req = new (bindings as Bindings).WriteWrap()
    req.handle = this.handle
    req.oncomplete = onWriteComplete
    req.callback = callback
    req.buffer = null
    return req
  }

  /** After a write request was handed to libuv: done at once, refused, or in flight. */
  private dispatched(
    req: Req,
    err: number,
    keep: ReadonlyArray<Uint8Array | string> | Uint8Array | string,
    callback: (error: DriverError | undefined) => void
  ): boolean {
    const b = bindings as Bindings
    if (err !== 0) {
      req.callback = undefined
      callback(uvError(err, "write"))
      return false
    }
    if (b.state[b.kLastWriteWasAsync] === 0) {
      // written at once: the contract reports a successful write on a later turn
      req.callback = undefined
      process.nextTick(completeLater, callback)
      return true
    }
    req.buffer = keep
    this.writesInFlight++
    return false
  }

  /** @internal an asynchronous write completed */
  writeDone(): void {
    this.writesInFlight--
    if (this.writesInFlight === 0 && this.afterWrites !== undefined) {
      const next = this.afterWrites
      this.afterWrites = undefined
      next()
    }
    if (this.writesInFlight > 0 || this.shutdownState !== 1) return
    // the last write is done: the FIN goes now, or, when the handle was
    // released meanwhile (libuv cancels pending writes on close), the
    // shutdown that waited for it completes with it
    if (this.closed) this.shutdownDone()
    else this.startShutdown()
  }

  get writeQueueSize(): number {
    return this.closed ? 0 : this.handle.writeQueueSize
  }

  shutdown(callback: (error: DriverError | undefined) => void): void {
    if (this.closed || this.shutdownState === 3) {
      callback(undefined)
      return
    }
    ;(this.shutdownWaiters ??= []).push(callback)
    if (this.shutdownState !== 0) return // an earlier shutdown is still flushing: complete with it
    this.shutdownState = 1
    // as net.Socket: the FIN is asked of libuv once the writes in flight are
    // done (libuv refuses a reset while a shutdown is pending, so a flush that
    // never ends must leave the handle resettable)
    if (this.writesInFlight === 0) this.startShutdown()
  }

  private startShutdown(): void {
    const req = new (bindings as Bindings).ShutdownWrap()
    req.handle = this.handle
    req.oncomplete = onShutdownComplete
    req.callback = undefined
    this.shutdownState = 2
    const err = this.handle.shutdown(req)
    if (err === 0) return
    // 1: finished at once; ENOTCONN: nothing to shut (node:net treats both as done)
    this.shutdownDone(err === 1 || err === UV_ENOTCONN ? undefined : uvError(err, "shutdown"))
  }

  /** @internal the FIN left (or the shutdown ended otherwise) */
  shutdownDone(error?: DriverError): void {
    this.shutdownState = 3
    const waiters = this.shutdownWaiters
    this.shutdownWaiters = undefined
    if (waiters !== undefined) { for (const w of waiters) w(error) }
  }

  private release(): boolean {
    if (this.closed) return false
    this.closed = true
    this.events = detached
    this.handle.onread = noop
    return true
  }

  close(callback: () => void): void {
    if (!this.release()) {
      setImmediate(callback)
      return
    }
    this.handle.close(callback)
  }

  reset(callback: () => void): void {
    if (!this.release()) {
      setImmediate(callback)
      return
    }
    const h = this.handle
    // libuv refuses a reset while its shutdown is pending (and would leave the
    // handle unclosable): then the FIN is on its way, and a close follows it
    if (typeof h.reset !== "function" || this.shutdownState === 2) h.close(callback)
    // a failed reset leaves node's handle closing without a close to come: report it released
    else if (h.reset(callback) !== 0) setImmediate(callback)
  }

  /**
   * Hands the libuv handle to a TLS layer as a paused `net.Socket`, once the
   * writes in flight completed (their completions must not reach the TLS
   * stream, which becomes the handle's listener).
   */
  [takeOver](callback: (socket: Net.Socket | undefined) => void): void {
    if (this.closed || this.failed || this.shutdownState !== 0) return callback(undefined)
    if (this.writesInFlight > 0) {
      this.afterWrites = () => this[takeOver](callback)
      return
    }
    this.closed = true
    this.detached = true
    this.events = detached
    this.handle.readStop()
    delete this.handle[owner]
    const options = { handle: this.handle, readable: true, writable: true, allowHalfOpen: true, pauseOnCreate: true }
    callback(new net.Socket(options as unknown as Net.SocketConstructorOpts))
  }

  /** Open for address and option calls: not released (a TLS layer may own the libuv handle). */
  private get live(): boolean {
    return !this.closed || this.detached
  }

  localEndpoint(): Endpoint | undefined {
    if (this.path !== undefined) return { _tag: "Ipc", path: this.path }
    if (!this.live || this.handle.getsockname === undefined) return undefined
    const out: Record<string, unknown> = {}
    return this.handle.getsockname(out) === 0 ? tcpEndpoint(out.address, out.port, out.family) : undefined
  }

  remoteEndpoint(): Endpoint | undefined {
    if (this.path !== undefined) return { _tag: "Ipc", path: this.path }
    if (!this.live || this.handle.getpeername === undefined) return undefined
    const out: Record<string, unknown> = {}
    return this.handle.getpeername(out) === 0 ? tcpEndpoint(out.address, out.port, out.family) : undefined
  }

  setNoDelay(enable: boolean): void {
    if (this.live) this.handle.setNoDelay?.(enable)
  }

  setKeepAlive(enable: boolean, initialDelayMs: number): void {
    if (this.live) this.handle.setKeepAlive?.(enable, ~~(initialDelayMs / 1000))
  }

  ref(): void {
    if (this.live) this.handle.ref()
  }

  unref(): void {
    if (this.live) this.handle.unref()
  }

  fd(): number {
    return this.live ? this.handle.fd ?? -1 : -1
  }
}

/** IPv4 and IPv6 "any" addresses, node:net's defaults for a local port without a local address. */
const anyAddress = (family: 4 | 6): string => (family === 4 ? "0.0.0.0" : "::")

/** libuv's "address in use". */
const UV_EADDRINUSE = -98

const isPort = (port: unknown): boolean => Number.isInteger(port) && (port as number) >= 0 && (port as number) <= 65535

/**
 * Why libuv's handles would refuse `target` — they assert on their argument
 * types, and a failed assertion aborts the process (a host that is not a
 * string, a port that is not an integer) — or `undefined` when it is fine.
 * The driver checks every target it is handed, whatever validated it before.
 */
export const unusableTarget = (target: ConnectTarget): string | undefined => {
  if (target._tag === "Ipc") {
    return typeof target.path === "string"
      ? undefined
      : "a local socket path that is not a string"
  }
  if (typeof target.address !== "string" || isIP(target.address) !== target.family) {
    return `a host that is not an IPv${target.family} address`
  }
  if (!isPort(target.port)) return "a port that is not an integer from 0 to 65535"
  if (target.localAddress !== undefined && isIP(`${target.localAddress}`) === 0) {
    return "a local address that is not an IP address"
  }
  // a local port libuv takes as node:net hands it over (coerced to an integer, then bound mod 2^16): the
  // bind check that follows turns a port other than the one asked for into EADDRINUSE, as node:net's does
  if (target.localPort !== undefined && typeof target.localPort !== "number") return "a local port that is not a number"
  return undefined
}

/** The typed error for a target the handles would refuse (see {@link unusableTarget}). */
export const unusableTargetError = (target: ConnectTarget, reason: string): DriverError => ({
  code: "EINVAL",
  errno: -22,
  syscall: "connect",
  address: target._tag === "Ipc" ? undefined : typeof target.address === "string" ? target.address : undefined,
  cause: `the node driver refused to dial ${reason}`
})

/**
 * Dials `target` on a new libuv handle, as node:net's `internalConnect` does,
 * within the call: bind first when a local address or port is asked (a bind
 * that fails is reported at once, with `syscall: "bind"`), then
 * `hooks.beforeDial` (which may abandon the attempt), then the connect system
 * call. Callers that must not dial in the current tick defer the call (compat
 * does, as node:net does for an IP address). Failures carry node:net's
 * `syscall`, `address` and `port`; a TCP connect system call that fails at
 * once is reported on the next tick, a local path it refuses at once. The returned canceller closes the handle; the
 * callback then never runs. Its `local` reads the address the kernel bound
 * for the attempt, once the connect system call was made.
 */
export const connect = (
  b: Bindings,
  target: ConnectTarget,
  callback: (error: DriverError | undefined, handle: Handle | undefined) => void,
  hooks?: DialHooks
): PendingConnect => {
  const unusable = unusableTarget(target)
  if (unusable !== undefined) {
    let cancelled = false
    process.nextTick(() => {
      if (!cancelled) callback(unusableTargetError(target, unusable), undefined)
    })
    return Object.assign(() => {
      cancelled = true
    }, { local: () => undefined })
  }
  const ipc = target._tag === "Ipc"
  const handle = ipc ? new b.Pipe(b.pipeSocket) : new b.TCP(b.tcpSocket)
  let settled = false
  let attempted = false
  const fail = (error: DriverError) => {
    if (settled) return
    settled = true
    handle.close(noop)
    callback(error, undefined)
  }
  const oncomplete = (status: number) => {
    if (settled) return
    if (status !== 0) {
      fail(
        target._tag === "Ipc"
          ? uvError(status, "connect", target.path)
          : uvError(status, "connect", target.address, target.port)
      )
      return
    }
    settled = true
    callback(undefined, new RawHandle(handle, target._tag === "Ipc" ? target.path : undefined))
  }
  const cancel = () => {
    if (settled) return
    settled = true
    handle.close(noop)
  }
  const local = (): Endpoint | undefined => {
    if (settled || !attempted || handle.getsockname === undefined) return undefined
    const out: Record<string, unknown> = {}
    if (handle.getsockname(out) !== 0 || out.port === 0) return undefined
    return tcpEndpoint(out.address, out.port, out.family)
  }
  const pending = Object.assign(cancel, { local })
  let err: number
  if (target._tag === "Ipc") {
    if (hooks !== undefined && !hooks.beforeDial()) {
      cancel()
      return pending
    }
    const req = new b.PipeConnectWrap()
    req.address = target.path
    req.oncomplete = oncomplete
    attempted = true
    err = handle.connect(req, target.path)
  } else {
    // as node:net: bound first only for a local address or a non-zero local port
    if (target.localAddress !== undefined || (target.localPort !== undefined && target.localPort !== 0)) {
      const localAddress = target.localAddress ?? anyAddress(target.family)
      const localPort = target.localPort ?? 0
      let bound = target.family === 4
        ? (handle.bind?.(localAddress, localPort) ?? -22)
        : (handle.bind6?.(localAddress, localPort, 0) ?? -22)
      // as node:net's checkBindError: libuv reports a taken port later (getsockname answers with it), and a
      // bind may "succeed" on another port than asked
      if (bound === 0 && localPort > 0 && handle.getsockname !== undefined) {
        const out: Record<string, unknown> = {}
        bound = handle.getsockname(out)
        if (bound === 0 && out.port !== localPort) bound = UV_EADDRINUSE
      }
      if (bound !== 0) {
        fail(uvError(bound, "bind", localAddress, localPort))
        return pending
      }
    }
    if (hooks !== undefined && !hooks.beforeDial()) {
      cancel()
      return pending
    }
    const req = new b.TCPConnectWrap()
    req.address = target.address
    req.port = target.port
    req.localAddress = target.localAddress
    req.localPort = target.localPort
    req.oncomplete = oncomplete
    attempted = true
    err = target.family === 4
      ? handle.connect(req, target.address, target.port)
      : (handle.connect6?.(req, target.address, target.port) ?? -22)
  }
  if (err !== 0) {
    // as node:net: a path the platform refuses fails within the call; a TCP dial's error is reported later
    if (target._tag === "Ipc") fail(uvError(err, "connect", target.path))
    else {
      // refused within the call: the local end it was bound to is read now, before the handle closes
      const out: Record<string, unknown> = {}
      const bound = handle.getsockname?.(out) === 0 ? tcpEndpoint(out.address, out.port, out.family) : undefined
      process.nextTick(fail, { ...uvError(err, "connect", target.address, target.port), immediate: true, local: bound })
    }
  }
  return pending
}
