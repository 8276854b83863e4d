/**
 * `net.Socket`: a real `stream.Duplex` that follows the logic of Node's
 * `lib/net.js` step by step, but drives an engine `Connection` (and the
 * engine's connect procedure) instead of a libuv handle.
 *
 * The class is bound to a driver by `createNet(driver)` (a subclass carrying
 * the driver in a static slot), so `new net.Socket()` works as in Node.
 *
 * @since 0.1.0
 */
import type * as DriverTypes from "@sluice/core/Driver"
import type { Driver, DriverError, Endpoint, PendingConnect } from "@sluice/core/Driver"
import * as Engine from "@sluice/core/Engine"
import { Duplex } from "node:stream"
import type { DuplexOptions } from "node:stream"
import { isBlockList } from "./BlockList.ts"
import type { BlockListLike } from "./BlockList.ts"
import {
  ERR_INVALID_ARG_TYPE,
  ERR_INVALID_ARG_VALUE,
  ERR_INVALID_FD_TYPE,
  ERR_INVALID_HANDLE_TYPE,
  ERR_IP_BLOCKED,
  ERR_MISSING_ARGS,
  ERR_SOCKET_CLOSED,
  ERR_SOCKET_CLOSED_BEFORE_CONNECTION,
  ERR_SOCKET_CONNECTION_TIMEOUT,
  errnoException,
  exceptionWithHostPort,
  unsupported,
  uvErrnoException
} from "./errors.ts"
import { lookupAndConnect } from "./internal/connect.ts"
import * as Observe from "./internal/observe.ts"
import * as Validate from "./internal/validate.ts"

/** @internal the driver of a bound `Socket` / `Server` class */
export const kDriver: unique symbol = Symbol("sluice.driver")
/** @internal constructor option: an accepted engine connection */
export const kConnection: unique symbol = Symbol("sluice.connection")
/** @internal constructor option: start paused (`pauseOnConnect`) */
export const kPauseOnCreate: unique symbol = Symbol("sluice.pauseOnCreate")
/** @internal marks an argument array already normalised */
export const kNormalized: unique symbol = Symbol("sluice.normalizedArgs")

// as `require` gives it: an ESM import of node:buffer reads (and so loads) every lazy export (`File`)
const { Buffer } = process.getBuiltinModule("node:buffer")
const { isUint8Array } = process.getBuiltinModule("node:util/types")

const kBuffer = Symbol("kBuffer")
const kBufferCb = Symbol("kBufferCb")
const kBufferGen = Symbol("kBufferGen")
/** @internal the socket's no-delay setting, as Node's (a server sets it on the sockets it accepts) */
export const kSetNoDelay: unique symbol = Symbol("kSetNoDelay")
/** @internal the socket's keep-alive setting, as Node's */
export const kSetKeepAlive: unique symbol = Symbol("kSetKeepAlive")
/** @internal the keep-alive initial delay, in seconds, as Node's */
export const kSetKeepAliveInitialDelay: unique symbol = Symbol("kSetKeepAliveInitialDelay")
const kBytesRead = Symbol("kBytesRead")
const kBytesWritten = Symbol("kBytesWritten")
const kTimer = Symbol("kTimer")
const kRef = Symbol("kRef")
const kLastWriteQueueSize = Symbol("kLastWriteQueueSize")
const kSetTOS = Symbol("kSetTOS")
const kHandle = Symbol("kHandle")
const kSetKeepAliveInterval = Symbol("kSetKeepAliveInterval")
const kSetKeepAliveCount = Symbol("kSetKeepAliveCount")

/**
 * The process's `autoSelectFamily` defaults: Node's, adjusted by the
 * `--[no-]network-family-autoselection[-attempt-timeout]` flags given in
 * `NODE_OPTIONS` or on the command line (which wins), as `node:net` reads them.
 */
const initialAutoSelect = (): { family: boolean; attemptTimeout: number } => {
  const out = { family: true, attemptTimeout: 250 }
  const fromEnv = (process.env["NODE_OPTIONS"] ?? "").split(/\s+/).filter((x) => x !== "")
  const args = [...fromEnv, ...process.execArgv]
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    if (arg === "--network-family-autoselection") out.family = true
    else if (arg === "--no-network-family-autoselection") out.family = false
    else if (arg.startsWith("--network-family-autoselection-attempt-timeout")) {
      const value = arg.includes("=") ? arg.slice(arg.indexOf("=") + 1) : args[++i]
      const n = Number(value)
      if (Number.isInteger(n) && n > 0) out.attemptTimeout = n
    }
  }
  return out
}

/** The `autoSelectFamily` defaults, shared with `net.ts` (`get/setDefaultAutoSelectFamily*`). */
export const autoSelectDefaults = initialAutoSelect()

/**
 * The engine's events for one socket: one small object with its callbacks on
 * the prototype (no closures per connection).
 */
class ConnectionEventsOf implements Engine.ConnectionEvents {
  private readonly socket: Socket
  constructor(socket: Socket) {
    this.socket = socket
  }
  onData(chunk: Uint8Array, borrowed?: boolean): void {
    this.socket.onConnectionData(chunk, borrowed === true)
  }
  onEnd(): void {
    this.socket.onEof()
  }
  onError(error: DriverError): void {
    this.socket.destroy(errnoException(error, error.syscall))
  }
  onTimeout(): void {}
  // the Duplex's allowHalfOpen ends the write side after 'end', exactly when
  // Node's does; the engine's request changes nothing visible
  onEndWritable(): void {}
}

/** @internal libuv's "bad file descriptor": what a closed handle answers. */
export const UV_EBADF = -9
/** @internal libuv's "invalid argument": a socket not bound yet has no name. */
export const UV_EINVAL = -22
/** libuv's "socket is not connected". */
const UV_ENOTCONN = -107

/**
 * Where a socket stands with respect to the engine: created when `connect`
 * starts (as Node creates its libuv handle), holding the connection once it
 * exists. It is the socket's `_handle`, and answers what Node's code and
 * libraries ask of a libuv stream handle (`close`, `readStart`, `readStop`,
 * `ref`, `unref`, `hasRef`, `fd`, `writeQueueSize`, `getAsyncId`); a TCP
 * socket's ({@link TcpSocketHandle}) also `getsockname`, `getpeername`,
 * `setNoDelay` and `setKeepAlive`, as libuv's `TCP` has them and its `Pipe`
 * not. `new net.Socket({ handle })` takes one over.
 *
 * @category models
 * @since 0.1.0
 */
export class SocketHandle {
  connection: Engine.Connection | undefined = undefined
  reading = false
  cancel: PendingConnect | undefined = undefined
  /** a connect on the connected handle was answered with success (a later one is refused) */
  reconnected = false
  /** that connect's success is still to be reported: another one now is refused as in flight */
  reconnecting = false
  /** the path of a second connect made while a local socket's first is in flight */
  ipcAgain: string | undefined = undefined
  /** `onread`: bytes the engine read beyond a callback that stopped reading */
  unread: Uint8Array | undefined = undefined
  /** `onread`: the end of input arrived behind `unread` */
  unreadEof = false
  /** `close()` was called on the handle itself: its descriptor is gone (writes fail with `EBADF`) */
  closed = false
  /** that close completed */
  private released = false
  private referenced = true
  readonly ipc: boolean
  constructor(ipc: boolean, connection?: Engine.Connection) {
    this.ipc = ipc
    if (connection !== undefined) {
      // accepted or adopted: the kernel refuses any connect on it
      this.connection = connection
      this.reconnected = true
    }
  }
  get bytesRead(): number {
    return this.connection?.bytesRead ?? 0
  }
  get bytesWritten(): number {
    return this.connection?.bytesWritten ?? 0
  }
  /** As libuv's: bytes of the writes in flight not yet handed to the kernel. */
  get writeQueueSize(): number {
    return this.connection?.handle.writeQueueSize ?? 0
  }
  /**
   * The platform's descriptor, as libuv's `fd`: -1 while closing (or where
   * the driver has none), `EINVAL` once released.
   */
  get fd(): number {
    if (this.closed) return this.released ? UV_EINVAL : -1
    if (this.connection?.closed === true) return UV_EINVAL
    return this.connection?.handle.fd?.() ?? -1
  }
  /**
   * Node's code calls this on any socket's `_handle` (the http client does, to
   * return a keep-alive socket to its agent). There is no async resource behind
   * an engine connection: -1, the id Node gives a socket without one, makes
   * Node fall back to the current execution id.
   */
  getAsyncId(): number {
    return -1
  }
  /**
   * Closes the handle under the socket, as libuv's `close`: the socket is not
   * told (its next write fails with `EBADF`, and destroying it emits no
   * `'close'`, as Node's); `callback` runs on a later turn.
   */
  close(callback?: () => void): void {
    if (this.closed) return
    this.closed = true
    const done = () => {
      this.released = true
      if (typeof callback === "function") callback.call(this)
    }
    const connection = this.connection
    if (connection === undefined) {
      this.cancel?.()
      this.cancel = undefined
      setImmediate(done)
    } else connection.close(() => setImmediate(done))
  }
  readStart(): number {
    if (this.closed) return UV_EBADF
    this.connection?.readStart()
    return 0
  }
  readStop(): number {
    if (this.closed) return UV_EBADF
    this.connection?.readStop()
    return 0
  }
  ref(): void {
    this.referenced = true
    this.connection?.ref()
  }
  unref(): void {
    this.referenced = false
    this.connection?.unref()
  }
  hasRef(): boolean {
    return this.referenced && !this.closed
  }
}

/**
 * A TCP socket's `_handle`: also `getsockname` / `getpeername` (filling the
 * object given, returning 0 or a negative errno, as libuv's) and
 * `setNoDelay` / `setKeepAlive`, through which the socket applies its options
 * (as Node's, so a patched or inspected handle sees them).
 *
 * @category models
 * @since 0.1.0
 */
export class TcpSocketHandle extends SocketHandle {
  getsockname(out: Record<string, unknown>): number {
    if (this.closed) return UV_EBADF
    const endpoint = this.connection !== undefined ? this.connection.localEndpoint() : this.cancel?.local?.()
    return fillEndpoint(out, endpoint, UV_EINVAL)
  }
  getpeername(out: Record<string, unknown>): number {
    if (this.closed) return UV_EBADF
    return fillEndpoint(out, this.connection?.remoteEndpoint(), UV_ENOTCONN)
  }
  setNoDelay(enable: boolean): number {
    if (this.closed) return UV_EBADF
    this.connection?.setNoDelay(enable)
    return 0
  }
  /** `initialDelay` in seconds, as libuv's; probe interval and count have no engine concept yet. */
  setKeepAlive(enable: boolean, initialDelay: number, _interval?: number, _count?: number): number {
    if (this.closed) return UV_EBADF
    this.connection?.setKeepAlive(enable, initialDelay * 1000)
    return 0
  }
}

const fillEndpoint = (out: Record<string, unknown>, endpoint: Endpoint | undefined, missing: number): number => {
  const info = endpointInfo(endpoint)
  if (info === undefined) return missing
  out["address"] = info.address
  out["family"] = info.family
  out["port"] = info.port
  return 0
}

/**
 * A socket handle: a TCP one (with the socket options and addresses), or a
 * local socket's.
 *
 * @category constructors
 * @since 0.1.0
 */
export const socketHandle = (ipc: boolean, connection?: Engine.Connection): SocketHandle =>
  ipc ? new SocketHandle(true, connection) : new TcpSocketHandle(false, connection)

/**
 * A Node `lookup` function (`dns.lookup`'s shape).
 *
 * @category models
 * @since 0.1.0
 */
export type NodeLookupFunction = (
  hostname: string,
  options: LookupOptions,
  callback: (err: NodeJS.ErrnoException | null, address: string | Array<LookupAddress>, family?: number) => void
) => void

/**
 * What a `lookup` function receives (`dns.LookupOptions`).
 *
 * @category models
 * @since 0.1.0
 */
export interface LookupOptions {
  family?: number | "IPv4" | "IPv6" | undefined
  hints?: number | undefined
  all?: boolean | undefined
  order?: "ipv4first" | "ipv6first" | "verbatim" | undefined
  verbatim?: boolean | undefined
}

/**
 * One answer of a `lookup` with `all` (`dns.LookupAddress`).
 *
 * @category models
 * @since 0.1.0
 */
export interface LookupAddress {
  address: string
  family: number
}

/**
 * Options of `new net.Socket()`.
 *
 * @category models
 * @since 0.1.0
 */
export interface SocketConstructorOpts extends DuplexOptions {
  fd?: number | undefined
  allowHalfOpen?: boolean | undefined
  readable?: boolean | undefined
  writable?: boolean | undefined
  signal?: AbortSignal | undefined
  noDelay?: boolean | undefined
  keepAlive?: boolean | undefined
  keepAliveInitialDelay?: number | undefined
  blockList?: BlockListLike | undefined
  typeOfService?: number | undefined
  handle?: unknown
  onread?: OnReadOpts | undefined
  [kConnection]?: Engine.Connection
  [kPauseOnCreate]?: boolean
}

/**
 * The `onread` option: reads land in a caller's buffer.
 *
 * @category models
 * @since 0.1.0
 */
export interface OnReadOpts {
  buffer: Uint8Array | (() => Uint8Array)
  callback(bytesWritten: number, buffer: Uint8Array): boolean
}

/**
 * The object form of `setKeepAlive`.
 *
 * @category models
 * @since 0.1.0
 */
export interface SetKeepAliveOptions {
  enable?: boolean | undefined
  initialDelay?: number | undefined
  interval?: number | undefined
  count?: number | undefined
}

/**
 * Options of `socket.connect()`.
 *
 * @category models
 * @since 0.1.0
 */
export interface TcpSocketConnectOpts {
  port: number
  host?: string | undefined
  localAddress?: string | undefined
  localPort?: number | undefined
  hints?: number | undefined
  family?: number | undefined
  lookup?: NodeLookupFunction | undefined
  autoSelectFamily?: boolean | undefined
  autoSelectFamilyAttemptTimeout?: number | undefined
}

/**
 * Options of `socket.connect()` for a local socket.
 *
 * @category models
 * @since 0.1.0
 */
export interface IpcSocketConnectOpts {
  path: string
}

/**
 * Options of `socket.connect()`.
 *
 * @category models
 * @since 0.1.0
 */
export type SocketConnectOpts = TcpSocketConnectOpts | IpcSocketConnectOpts

/**
 * Arguments of `connect` after normalisation: `[options, callback]`.
 *
 * @category models
 * @since 0.1.0
 */
export type NormalizedArgs = [Record<string, unknown>, ((...args: Array<unknown>) => void) | null] & {
  [kNormalized]?: true
}

const toNumber = (x: unknown): number | false => {
  const n = Number(x)
  return n >= 0 ? n : false
}

/** `true` when a string names a pipe rather than a port. */
export const isPipeName = (s: unknown): s is string => typeof s === "string" && toNumber(s) === false

/**
 * Node's `normalizeArgs` for `connect` and `listen`.
 *
 * @category internals
 * @since 0.1.0
 */
export const normalizeArgs = (args: ReadonlyArray<unknown>): NormalizedArgs => {
  let arr: NormalizedArgs
  if (args.length === 0) {
    arr = [{}, null]
    arr[kNormalized] = true
    return arr
  }
  const arg0 = args[0]
  let options: Record<string, unknown> = {}
  if (typeof arg0 === "object" && arg0 !== null) options = arg0 as Record<string, unknown>
  else if (isPipeName(arg0)) options["path"] = arg0
  else {
    options["port"] = arg0
    if (args.length > 1 && typeof args[1] === "string") options["host"] = args[1]
  }
  const cb = args[args.length - 1]
  arr = [options, typeof cb === "function" ? (cb as (...args: Array<unknown>) => void) : null]
  arr[kNormalized] = true
  return arr
}

const isNormalized = (x: unknown): x is NormalizedArgs =>
  Array.isArray(x) && (x as NormalizedArgs)[kNormalized] === true

const toBuffer = (chunk: Uint8Array): Buffer =>
  Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)

const noop = (): void => {}

/** The text encodings the engine takes text in, by Node's names for them (`undefined`: convert to bytes first). */
const textEncoding = (encoding: string): DriverTypes.TextEncoding | undefined => {
  switch (encoding) {
    case "utf8":
    case "utf-8":
      return "utf8"
    case "latin1":
    case "binary":
      return "latin1"
    default:
      return undefined
  }
}

type WriteChunk = { chunk: unknown; encoding: BufferEncoding }

interface Info {
  address?: string
  family?: string
  port?: number
}

const endpointInfo = (e: Endpoint | undefined): Info | undefined =>
  e === undefined || e._tag !== "Tcp" ? undefined : { address: e.address, family: e.family, port: e.port }

function writeAfterFIN(this: Socket, chunk: unknown, encoding?: unknown, cb?: unknown): boolean {
  if (!this.writableEnded) {
    return Duplex.prototype.write.call(this, chunk, encoding as BufferEncoding, cb as () => void)
  }
  if (typeof encoding === "function") cb = encoding
  const er = Object.assign(new Error("This socket has been ended by the other party"), { code: "EPIPE" })
  if (typeof cb === "function") process.nextTick(cb as (e: Error) => void, er)
  this.destroy(er)
  return false
}

function onReadableStreamEnd(this: Socket): void {
  if (!this.allowHalfOpen) this.write = writeAfterFIN as Socket["write"]
}

/**
 * `net.Socket` over Sluice's engine.
 *
 * @category models
 * @since 0.1.0
 */
export class Socket extends Duplex {
  /** @internal set on the prototype of a bound class by `createNet` */
  declare readonly [kDriver]: Driver | undefined

  connecting = false
  _hadError = false
  _parent: Socket | null = null
  _host: string | null = null
  _closeAfterHandlingError = false
  _sockname: Info | null = null
  declare _peername: Info | null | undefined
  declare [kHandle]: SocketHandle | null | undefined
  _pendingData: unknown = null
  _pendingEncoding: string = ""
  server: unknown = null
  _server: { _connections: number; _emitCloseIfDrained(): void } | null = null
  declare timeout?: number
  declare autoSelectFamilyAttemptedAddresses: Array<string>
  declare resetAndClosing: boolean
  declare [kBuffer]: Uint8Array | true | null
  declare [kBufferCb]: ((n: number, buf: Uint8Array) => unknown) | null
  declare [kBufferGen]: (() => Uint8Array) | null
  declare [kSetNoDelay]: boolean
  declare [kSetKeepAlive]: boolean
  declare [kSetKeepAliveInitialDelay]: number
  declare [kBytesRead]: number
  declare [kBytesWritten]: number
  declare [kTimer]: Engine.IdleTimer | undefined
  declare [kRef]: boolean
  declare [kLastWriteQueueSize]: number
  declare [kSetTOS]: number | undefined
  declare [kSetKeepAliveInterval]: number | undefined
  declare [kSetKeepAliveCount]: number | undefined
  declare blockList: BlockListLike | undefined

  constructor(options?: SocketConstructorOpts | number) {
    // Node's checks in Node's order, on the options as given (Node clamps a negative delay in them)
    const given = options as SocketConstructorOpts | undefined
    if (given?.objectMode) {
      throw ERR_INVALID_ARG_VALUE("options.objectMode", given.objectMode, "is not supported")
    } else if (given?.readableObjectMode || given?.writableObjectMode) {
      throw ERR_INVALID_ARG_VALUE(
        `options.${given.readableObjectMode ? "readableObjectMode" : "writableObjectMode"}`,
        given.readableObjectMode || given.writableObjectMode,
        "is not supported"
      )
    }
    if (given?.keepAliveInitialDelay !== undefined) {
      Validate.validateNumber(given.keepAliveInitialDelay, "options.keepAliveInitialDelay")
      if (given.keepAliveInitialDelay < 0) given.keepAliveInitialDelay = 0
    }
    let opts: SocketConstructorOpts
    if (typeof options === "number") opts = { fd: options }
    else opts = { ...options }
    opts.allowHalfOpen = Boolean(opts.allowHalfOpen)
    opts.emitClose = false
    opts.autoDestroy = true
    opts.decodeStrings = false
    super(opts)
    this[kTimer] = undefined
    this[kRef] = true
    this[kLastWriteQueueSize] = 0
    this[kBuffer] = null
    this[kBufferCb] = null
    this[kBufferGen] = null

    const connection = opts[kConnection]
    if (connection !== undefined) {
      this._handle = socketHandle(connection.isIpc(), connection)
      this.attachConnection(connection)
    } else if (opts.handle) {
      // as Node's: the handle is taken as it is (compat's own, or the platform's through the driver)
      const handle = this.adoptHandle(opts.handle)
      this._handle = handle
      this.attachConnection(handle.connection!)
    } else if (opts.fd !== undefined) {
      Validate.validateInt32(opts.fd, "fd", 0)
      const adopted = this.adopt(opts.fd)
      this._handle = socketHandle(adopted.isIpc(), adopted)
      this.attachConnection(adopted)
    }

    const onread = opts.onread
    if (
      onread !== null && typeof onread === "object"
      && (isUint8Array(onread.buffer) || typeof onread.buffer === "function")
      && typeof onread.callback === "function"
    ) {
      if (typeof onread.buffer === "function") {
        this[kBuffer] = true
        this[kBufferGen] = onread.buffer
      } else this[kBuffer] = onread.buffer
      this[kBufferCb] = onread.callback
    }

    this[kSetNoDelay] = Boolean(opts.noDelay)
    this[kSetKeepAlive] = Boolean(opts.keepAlive)
    this[kSetKeepAliveInitialDelay] = ~~((opts.keepAliveInitialDelay as number) / 1000)
    if (opts.typeOfService !== undefined) {
      Validate.validateInt32(opts.typeOfService, "options.typeOfService", 0, 255)
    }
    this[kSetTOS] = opts.typeOfService

    this.on("end", onReadableStreamEnd)

    this.initHandle()

    if (this._handle !== null && opts.readable !== false) {
      if (opts[kPauseOnCreate] || (opts as { pauseOnCreate?: unknown }).pauseOnCreate) {
        this._handle.reading = false
        this._handle.connection?.readStop()
        ;(this as unknown as { readableFlowing: boolean | null }).readableFlowing = false
      } else this.read(0)
    }

    // `signal` destroys the socket through the Duplex, as in Node, which checks it once more here
    if (opts.signal) Validate.validateAbortSignal(opts.signal, "options.signal")

    this[kBytesRead] = 0
    this[kBytesWritten] = 0
    if (opts.blockList) {
      if (!isBlockList(opts.blockList)) {
        throw ERR_INVALID_ARG_TYPE("options.blockList", "net.BlockList", opts.blockList)
      }
      this.blockList = opts.blockList
    }
  }

  /**
   * Node's `initSocketHandle`, run when the socket gets its handle (made,
   * accepted, adopted, or at `connect`): the stream is usable again, and an
   * `onread` buffer function gives its first buffer.
   */
  private initHandle(): void {
    ;(this as unknown as { _undestroy(): void })._undestroy()
    this._sockname = null
    if (this._handle === null || this[kBuffer] === null) return
    this._handle.connection?.borrowReads()
    const gen = this[kBufferGen]
    if (gen !== null) {
      const first = gen()
      if (isUint8Array(first)) this[kBuffer] = first
    }
  }

  /**
   * Where the socket stands with the engine: `null` before `connect` and
   * after `destroy`, as Node's `_handle` (an accessor on the prototype there too).
   */
  get _handle(): SocketHandle | null {
    return this[kHandle] ?? null
  }

  set _handle(handle: SocketHandle | null) {
    this[kHandle] = handle
  }

  /** @internal Node's alias of `connecting`. */
  get _connecting(): boolean {
    return this.connecting
  }

  /** @internal bytes handed to the engine so far. */
  get _bytesDispatched(): number {
    return this._handle !== null ? this._handle.bytesWritten : this[kBytesWritten]
  }

  /** The driver this socket's class is bound to. */
  get driver(): Driver {
    // looked up on the prototype chain, so that ES subclasses and util.inherits subclasses both find it
    const driver = this[kDriver]
    if (driver === undefined) throw new TypeError("net.Socket is not bound to a driver: use createNet(driver)")
    return driver
  }

  // ---------------------------------------------------------------------------
  // engine wiring
  // ---------------------------------------------------------------------------

  /**
   * Adopts a descriptor through the driver (`new net.Socket({ fd })`): a
   * synchronous open, whose failures are thrown as Node throws them.
   */
  private adopt(fd: number): Engine.Connection {
    const driver = this.driver
    if (!driver.capabilities.fd || driver.open === undefined) {
      throw unsupported("open", `adopting a file descriptor is not supported by the ${driver.name} driver`)
    }
    let failure: DriverError | undefined
    let connection: Engine.Connection | undefined
    driver.open(fd, (error, handle) => {
      if (error !== undefined || handle === undefined) failure = error ?? { code: "UNKNOWN", syscall: "open" }
      else connection = new Engine.Connection(driver, handle, { allowHalfOpen: this.allowHalfOpen })
    })
    if (connection !== undefined) return connection
    if (failure === undefined) throw unsupported("open", `the ${driver.name} driver did not open the descriptor`)
    if (failure.code === "ERR_INVALID_FD_TYPE") throw ERR_INVALID_FD_TYPE(failure.address ?? "UNKNOWN")
    throw errnoException(failure, "open")
  }

  /**
   * The handle of `new net.Socket({ handle })`: compat's own (a server's
   * accepted one, another socket's), or a platform handle the driver adopts
   * (`Driver.adopt`: libuv's `TCP` and `Pipe` on the node driver).
   */
  private adoptHandle(given: unknown): SocketHandle {
    if (given instanceof SocketHandle) {
      if (given.connection === undefined || given.closed) {
        throw unsupported("open", "adopting a handle that is not connected is not supported")
      }
      return given
    }
    const driver = this.driver
    if (driver.adopt === undefined) {
      throw unsupported("open", `adopting a bound handle is not supported by the ${driver.name} driver`)
    }
    let failure: DriverError | undefined
    let connection: Engine.Connection | undefined
    driver.adopt(given, (error, handle) => {
      if (error !== undefined || handle === undefined) failure = error ?? { code: "UNKNOWN", syscall: "open" }
      else connection = new Engine.Connection(driver, handle, { allowHalfOpen: this.allowHalfOpen })
    })
    if (connection !== undefined) return socketHandle(connection.isIpc(), connection)
    if (failure === undefined) throw unsupported("open", `the ${driver.name} driver did not adopt the handle`)
    if (failure.code === "ERR_INVALID_HANDLE_TYPE") throw ERR_INVALID_HANDLE_TYPE()
    throw errnoException(failure, "open")
  }

  private attachConnection(connection: Engine.Connection): void {
    connection.attach(new ConnectionEventsOf(this))
    // the `onread` path copies every read into the user's buffer
    if (this[kBuffer] !== null) connection.borrowReads()
    if (!this[kRef]) connection.unref()
  }

  /**
   * @internal engine event. A borrowed chunk is valid only during the call:
   * the `onread` path copies it out, the stream path keeps a copy.
   */
  onConnectionData(chunk: Uint8Array, borrowed: boolean): void {
    const handle = this._handle
    if (handle === null) return
    this._unrefTimer()
    if (this[kBuffer] !== null) {
      this.readIntoUserBuffer(handle, chunk, borrowed)
      return
    }
    const ret = this.push(borrowed ? Buffer.from(chunk) : toBuffer(chunk))
    if (!ret && handle.reading) {
      handle.reading = false
      if (!this.destroyed) handle.connection?.readStop()
    }
  }

  /**
   * The `onread` path, as Node's `onStreamRead`: each read fills the current
   * buffer (at most its length) and is handed to the callback; the buffer
   * function gives the next buffer after each read; a callback that returns
   * `false`, or that pauses the socket, stops reading, and what the engine
   * had read beyond that waits for reading to start again (Node leaves it in
   * the kernel).
   */
  private readIntoUserBuffer(handle: SocketHandle, chunk: Uint8Array, borrowed: boolean): void {
    let offset = 0
    while (offset < chunk.length) {
      if (!handle.reading || this.destroyed) {
        const rest = chunk.subarray(offset)
        handle.unread = borrowed ? new Uint8Array(rest) : rest
        return
      }
      const target = this[kBuffer]!
      let result: boolean
      if (target === true) {
        // the buffer function gave no buffer at first: Node passes `true` and the whole read
        const n = chunk.length - offset
        offset += n
        result = this[kBufferCb]!(n, target as unknown as Uint8Array) !== false
      } else {
        const n = Math.min(target.length, chunk.length - offset)
        target.set(chunk.subarray(offset, offset + n), 0)
        offset += n
        result = this[kBufferCb]!(n, target) !== false
        const gen = this[kBufferGen]
        if (gen !== null) {
          const next = gen()
          if (isUint8Array(next)) this[kBuffer] = next
        }
      }
      if (!result && handle.reading) {
        handle.reading = false
        if (!this.destroyed) handle.connection?.readStop()
      }
    }
  }

  /** Delivers what the `onread` path kept when reading stopped, once reading starts again. */
  private readUnread(handle: SocketHandle): void {
    const rest = handle.unread
    if (rest === undefined) return
    handle.unread = undefined
    this.readIntoUserBuffer(handle, rest, false)
    if (handle.unread === undefined && handle.unreadEof) {
      handle.unreadEof = false
      this.onEof()
    }
  }

  /** @internal engine event */
  onEof(): void {
    const handle = this._handle
    if (handle !== null && handle.unread !== undefined) {
      // the end comes after the bytes still to be read
      handle.unreadEof = true
      return
    }
    this.push(null)
    this.read(0)
  }

  private tryReadStart(): void {
    const handle = this._handle
    if (handle === null || handle.connection === undefined) return
    handle.reading = true
    handle.connection.readStart()
    if (handle.unread !== undefined) {
      // as the next read of the kernel's buffer would
      setImmediate(() => {
        if (this._handle === handle && handle.reading) this.readUnread(handle)
      })
    }
  }

  /** @internal Node's `_unrefTimer`: activity resets the idle timeout. */
  _unrefTimer(): void {
    this[kTimer]?.touch()
    for (let s = this._parent; s !== null; s = s._parent) s[kTimer]?.touch()
  }

  // ---------------------------------------------------------------------------
  // stream implementation
  // ---------------------------------------------------------------------------

  override _read(n: number): void {
    const handle = this._handle
    if (this.connecting || handle === null || handle.connection === undefined) {
      this.once("connect", () => this._read(n))
    } else if (!handle.reading) this.tryReadStart()
  }

  override _write(chunk: unknown, encoding: BufferEncoding, cb: (error?: Error | null) => void): void {
    this._writeGeneric(false, chunk, encoding, cb)
  }

  override _writev(chunks: Array<WriteChunk>, cb: (error?: Error | null) => void): void {
    this._writeGeneric(true, chunks, "", cb)
  }

  /** @internal */
  _writeGeneric(
    writev: boolean,
    data: unknown,
    encoding: string,
    cb: (error?: Error | null) => void
  ): void {
    if (this.connecting) {
      this._pendingData = data
      this._pendingEncoding = encoding
      const onClose = () => cb(ERR_SOCKET_CLOSED_BEFORE_CONNECTION())
      this.once("connect", () => {
        this.off("close", onClose)
        this._writeGeneric(writev, data, encoding, cb)
      })
      this.once("close", onClose)
      return
    }
    this._pendingData = null
    this._pendingEncoding = ""
    const handle = this._handle
    if (handle === null || handle.connection === undefined) {
      cb(ERR_SOCKET_CLOSED())
      return
    }
    if (handle.closed) {
      // as libuv's write on a handle closed under the socket
      cb(uvErrnoException(UV_EBADF, "write"))
      return
    }
    this._unrefTimer()
    // a write of one string in UTF-8 or Latin-1 goes to the handle as it is (libuv encodes it into the
    // kernel's buffer, as node:net's `writeUtf8String`); text in any other encoding, and the strings of a
    // corked `writev`, are converted first (measured: libuv's `writev` with strings copies them all into
    // one allocation, slower than converting each here; bench/README.md, "Many small string writes")
    let chunks: Array<Uint8Array | string>
    let text: DriverTypes.TextEncoding | undefined = undefined
    let size = 0
    if (writev) {
      const list = data as Array<WriteChunk>
      chunks = new Array(list.length)
      for (let i = 0; i < list.length; i++) {
        const { chunk, encoding: enc } = list[i]!
        const bytes = typeof chunk === "string" ? Buffer.from(chunk, enc) : (chunk as Uint8Array)
        chunks[i] = bytes
        size += bytes.length
      }
    } else if (typeof data !== "string") {
      chunks = [data as Uint8Array]
      size = (data as Uint8Array).length
    } else {
      text = textEncoding(encoding)
      if (text === undefined) {
        const bytes = Buffer.from(data, encoding as BufferEncoding)
        chunks = [bytes]
        size = bytes.length
      } else {
        chunks = [data]
        size = text === "latin1" ? data.length : Buffer.byteLength(data, "utf8")
      }
    }
    const connection = handle.connection
    let reported = false
    const done = (error: DriverError | undefined) => {
      if (reported) return
      reported = true
      // as Node after an asynchronous write: no write in progress for the idle timeout to wait on
      this[kLastWriteQueueSize] = 0
      if (error !== undefined) {
        cb(errnoException(error, "write"))
        return
      }
      this._unrefTimer()
      cb()
    }
    const sent = text === undefined
      ? connection.write(chunks as Array<Uint8Array>, done)
      : connection.writeText(chunks, text, size, done)
    if (sent && !reported) {
      // as Node: a write the kernel took at once completes at once (the stream defers its own 'drain')
      reported = true
      this._unrefTimer()
      cb()
    } else if (!reported) {
      // as Node (`req.bytes` of an asynchronous write): while the queue left differs from it, a
      // write is in progress and the idle timeout waits
      this[kLastWriteQueueSize] = size
    }
  }

  override _final(cb: (error?: Error | null) => void): void {
    if (this.connecting) {
      this.once("connect", () => this._final(cb))
      return
    }
    const connection = this._handle?.connection
    if (connection === undefined) {
      cb()
      return
    }
    if (this._handle!.closed) {
      cb(uvErrnoException(UV_EBADF, "shutdown"))
      return
    }
    connection.shutdown(() => cb())
  }

  override _destroy(exception: Error | null, cb: (error?: Error | null) => void): void {
    this.connecting = false
    // (may run inside the Duplex constructor, when `signal` is already aborted)
    this[kTimer]?.clear()
    for (let s = this._parent; s != null; s = s._parent) s[kTimer]?.clear()
    const handle = this._handle
    if (handle != null) {
      const isException = Boolean(exception)
      this[kBytesRead] = handle.bytesRead
      this[kBytesWritten] = handle.bytesWritten
      const connection = handle.connection
      if (handle.closed) {
        // closed under the socket (`_handle.close()`): as Node's, whose close callback then never runs, no 'close'
      } else if (connection === undefined) {
        // still connecting: the attempt is abandoned, as Node closes its handle
        handle.cancel?.()
        handle.cancel = undefined
        setImmediate(() => this.emit("close", isException))
      } else if (this.resetAndClosing) {
        this.resetAndClosing = false
        connection.reset(() => this.emit("close", isException))
      } else {
        connection.close(() => this.emit("close", isException))
      }
      this._handle = null
      this._sockname = null
      cb(exception)
    } else {
      cb(exception)
      process.nextTick(() => this.emit("close"))
    }
    if (this._server != null) {
      this._server._connections--
      this._server._emitCloseIfDrained()
    }
  }

  // ---------------------------------------------------------------------------
  // public methods
  // ---------------------------------------------------------------------------

  override pause(): this {
    const handle = this._handle
    if (this[kBuffer] !== null && !this.connecting && handle !== null && handle.reading) {
      handle.reading = false
      if (!this.destroyed) handle.connection?.readStop()
    }
    return super.pause()
  }

  override resume(): this {
    const handle = this._handle
    if (this[kBuffer] !== null && !this.connecting && handle !== null && !handle.reading) this.tryReadStart()
    return super.resume()
  }

  override read(size?: number): unknown {
    const handle = this._handle
    if (this[kBuffer] !== null && !this.connecting && handle !== null && !handle.reading) this.tryReadStart()
    return super.read(size)
  }

  override end(cb?: () => void): this
  override end(chunk: unknown, cb?: () => void): this
  override end(chunk: unknown, encoding?: BufferEncoding, cb?: () => void): this
  override end(data?: unknown, encoding?: unknown, cb?: unknown): this {
    Duplex.prototype.end.call(this, data, encoding as BufferEncoding, cb as () => void)
    return this
  }

  /** Ends the write side, then destroys the socket once it finished. */
  destroySoon(): void {
    if (this.writable) this.end()
    if (this.writableFinished) this.destroy()
    else this.once("finish", this.destroy)
  }

  /** Closes with RST (TCP only). */
  resetAndDestroy(): this {
    const handle = this._handle
    if (handle !== null) {
      if (handle.ipc) throw ERR_INVALID_HANDLE_TYPE()
      if (this.connecting) this.once("connect", () => this._reset())
      else this._reset()
    } else this.destroy(ERR_SOCKET_CLOSED())
    return this
  }

  /** @internal */
  _reset(): this {
    this.resetAndClosing = true
    return this.destroy()
  }

  setTimeout(timeout: number, callback?: () => void): this {
    if (this.destroyed) return this
    this.timeout = timeout
    const msecs = Validate.getTimerDuration(timeout, "msecs")
    let timer = this[kTimer]
    // disarmed for good: later activity does not re-arm it
    timer?.set(0)
    if (msecs === 0) {
      if (callback !== undefined) {
        Validate.validateFunction(callback, "callback")
        this.removeListener("timeout", callback)
      }
    } else {
      if (timer === undefined) {
        timer = new Engine.IdleTimer(this.driver.timers, () => this.onTimeout())
        this[kTimer] = timer
      }
      timer.set(msecs)
      if (callback !== undefined) {
        Validate.validateFunction(callback, "callback")
        this.once("timeout", callback)
      }
    }
    return this
  }

  private onTimeout(): void {
    const handle = this._handle
    const last = this[kLastWriteQueueSize]
    if (last > 0 && handle !== null) {
      // a write in progress suppresses the timeout, as in Node
      const size = handle.writeQueueSize
      if (last !== size) {
        this[kLastWriteQueueSize] = size
        this._unrefTimer()
        return
      }
    }
    this.emit("timeout")
  }

  /** @internal Node's name for the timeout handler. */
  _onTimeout(): void {
    this.onTimeout()
  }

  setNoDelay(noDelay?: boolean): this {
    const enable = Boolean(noDelay === undefined ? true : noDelay)
    const handle = this._handle
    if (handle === null) {
      this[kSetNoDelay] = enable
      return this
    }
    // through the handle, as Node's: a local socket's has no setNoDelay
    if (handle instanceof TcpSocketHandle && enable !== this[kSetNoDelay]) {
      this[kSetNoDelay] = enable
      handle.setNoDelay(enable)
    }
    return this
  }

  setKeepAlive(options: SetKeepAliveOptions): this
  setKeepAlive(enable?: boolean, initialDelay?: number, interval?: number, count?: number): this
  setKeepAlive(
    enable?: boolean | SetKeepAliveOptions,
    initialDelay?: number,
    interval?: number,
    count?: number
  ): this {
    if (enable !== null && typeof enable === "object") {
      ;({ enable, initialDelay, interval, count } = enable)
    }
    const on = Boolean(enable)
    const delay = ~~((initialDelay as number) / 1000)
    const every = interval === undefined ? undefined : ~~(interval / 1000)
    const handle = this._handle
    if (handle === null) {
      this[kSetKeepAlive] = on
      this[kSetKeepAliveInitialDelay] = delay
      this[kSetKeepAliveInterval] = every
      this[kSetKeepAliveCount] = count
      return this
    }
    if (!(handle instanceof TcpSocketHandle)) return this
    if (
      on !== this[kSetKeepAlive]
      || (on && (this[kSetKeepAliveInitialDelay] !== delay || this[kSetKeepAliveInterval] !== every
        || this[kSetKeepAliveCount] !== count))
    ) {
      this[kSetKeepAlive] = on
      this[kSetKeepAliveInitialDelay] = delay
      this[kSetKeepAliveInterval] = every
      this[kSetKeepAliveCount] = count
      // through the handle, as Node's
      handle.setKeepAlive(on, delay, every, count)
    }
    return this
  }

  /** The IP Type of Service set with `setTypeOfService` (the engine does not apply it yet). */
  getTypeOfService(): number {
    return this[kSetTOS] !== undefined ? this[kSetTOS] : 0
  }

  /** Records the IP Type of Service (0-255). */
  setTypeOfService(tos: number): this {
    if (Number.isNaN(tos)) throw ERR_INVALID_ARG_TYPE("tos", "number", tos)
    Validate.validateInt32(tos, "tos", 0, 255)
    this[kSetTOS] = tos
    return this
  }

  address(): Info {
    return this._getsockname()
  }

  ref(): this {
    this[kRef] = true
    if (this._handle === null) {
      this.once("connect", this.ref)
      return this
    }
    this._handle.connection?.ref()
    return this
  }

  unref(): this {
    this[kRef] = false
    if (this._handle === null) {
      this.once("connect", this.unref)
      return this
    }
    this._handle.connection?.unref()
    return this
  }

  /** @internal */
  _getsockname(): Info {
    // as Node: asked once per connection of the handle and kept, even when the
    // platform had no address yet (a connect whose system call is still to come)
    const handle = this._handle
    if (handle == null || handle.ipc) return {}
    if (this._sockname === null) {
      const endpoint = handle.connection !== undefined ? handle.connection.localEndpoint() : handle.cancel?.local?.()
      this._sockname = endpointInfo(endpoint) ?? {}
    }
    return this._sockname
  }

  /** @internal */
  _getpeername(): Info {
    const connection = this._handle?.connection
    if (connection === undefined || this.connecting) return this._peername ?? {}
    if (this._peername == null) {
      const info = endpointInfo(connection.remoteEndpoint())
      if (info === undefined) return {}
      this._peername = info
    }
    return this._peername
  }

  // ---------------------------------------------------------------------------
  // properties
  // ---------------------------------------------------------------------------

  get pending(): boolean {
    return this._handle === null || this.connecting
  }

  get readyState(): "opening" | "open" | "readOnly" | "writeOnly" | "closed" {
    if (this.connecting) return "opening"
    if (this.readable && this.writable) return "open"
    if (this.readable && !this.writable) return "readOnly"
    if (!this.readable && this.writable) return "writeOnly"
    return "closed"
  }

  /** Bytes buffered for writing (`undefined` once the socket has no handle, as in Node). */
  get bufferSize(): number {
    return (this._handle !== null ? this.writableLength : undefined) as number
  }

  get bytesRead(): number {
    return this._handle !== null ? this._handle.bytesRead : this[kBytesRead]
  }

  get bytesWritten(): number {
    let bytes = this._handle !== null ? this._handle.bytesWritten : this[kBytesWritten]
    const buffer = (this as unknown as { writableBuffer?: Array<{ chunk: unknown; encoding: BufferEncoding }> })
      .writableBuffer
    if (buffer === undefined) return undefined as unknown as number
    for (const el of buffer) {
      bytes += el.chunk instanceof Buffer
        ? el.chunk.length
        : Buffer.byteLength(el.chunk as string, el.encoding)
    }
    const data = this._pendingData
    if (Array.isArray(data)) {
      // a writev waiting for 'connect'; with `allBuffers` Node adds the entries' (undefined) `length`: NaN, kept
      const allBuffers = (data as { allBuffers?: boolean }).allBuffers === true
      for (const el of data as Array<WriteChunk>) {
        bytes += allBuffers || el instanceof Buffer
          ? (el as unknown as { length: number }).length
          : Buffer.byteLength(el.chunk as string, el.encoding)
      }
    } else if (data) {
      bytes += typeof data === "string"
        ? Buffer.byteLength(data, this._pendingEncoding as BufferEncoding)
        : (data as Uint8Array).length
    }
    return bytes
  }

  get remoteAddress(): string | undefined {
    return this._getpeername().address
  }

  get remoteFamily(): string | undefined {
    return this._getpeername().family
  }

  get remotePort(): number | undefined {
    return this._getpeername().port
  }

  // typed as @types/node declares them (optional there); `undefined` until connected
  get localAddress(): string {
    return this._getsockname().address as string
  }

  get localPort(): number {
    return this._getsockname().port as number
  }

  get localFamily(): string {
    return this._getsockname().family as string
  }

  // ---------------------------------------------------------------------------
  // connect
  // ---------------------------------------------------------------------------

  connect(options: SocketConnectOpts, connectionListener?: () => void): this
  connect(port: number, host: string, connectionListener?: () => void): this
  connect(port: number, connectionListener?: () => void): this
  connect(path: string, connectionListener?: () => void): this
  connect(...args: Array<unknown>): this {
    // as Node: every connect call is published first (one that then throws included)
    if (Observe.clientSocket.hasSubscribers) Observe.clientSocket.publish({ socket: this })
    const normalized = isNormalized(args[0]) ? args[0] : normalizeArgs(args)
    const options = normalized[0]
    const cb = normalized[1]
    if (cb !== null) this.once("connect", cb)
    if (this._parent !== null && this._parent.connecting) return this
    if (options["port"] === undefined && options["path"] == null) {
      throw ERR_MISSING_ARGS(["options", "port", "path"])
    }
    if (this.write !== Socket.prototype.write) this.write = Socket.prototype.write
    if (this.destroyed) {
      this._handle = null
      this._peername = null
      this._sockname = null
    }
    const path = options["path"]
    const pipe = !!path
    if (this._handle === null) {
      this._handle = socketHandle(pipe)
      this.initHandle()
    }
    this._unrefTimer()
    this.connecting = true
    if (pipe) {
      Validate.validateString(path, "options.path")
      this.connectIpc(path)
    } else lookupAndConnect(this, options, autoSelectDefaults)
    return this
  }

  private connectIpc(path: string): void {
    const driver = this.driver
    if (!driver.capabilities.ipc) {
      const error = unsupported("connect", `the ${driver.name} driver has no local sockets`)
      process.nextTick(() => this.destroy(error))
      return
    }
    this.emit("connectionAttempt", path, undefined, undefined)
    const handle = this._handle!
    if (handle.cancel !== undefined) {
      // the first attempt decides: when it fails, its error ends the socket; when it connects, this one is refused
      handle.ipcAgain ??= path
      return
    }
    if (handle.connection !== undefined) {
      // a local socket connects within the system call: connecting it again is refused, reported after this tick
      const ex = exceptionWithHostPort({ code: "EISCONN", syscall: "connect" }, "connect", path, undefined)
      process.nextTick(() => {
        if (this.destroyed) return
        this.emit("connectionAttemptFailed", path, undefined, undefined, ex)
        this.destroy(ex)
      })
      return
    }
    let inCall = true
    const cancel = Engine.connect(driver, { _tag: "Ipc", path }, {}, (failure, connected) => {
      handle.cancel = undefined
      if (failure !== undefined) {
        if (inCall) {
          // refused within the system call (a path the platform cannot use): as Node, no attempt failed,
          // and the local end (a pipe has no address) is named in the message
          const local = this._getsockname()
          const details = `${local.address}:${local.port}`
          this.destroy(exceptionWithHostPort(failure.error, "connect", path, undefined, details))
          return
        }
        const ex = exceptionWithHostPort(failure.error, "connect", path, undefined)
        this.emit("connectionAttemptFailed", path, undefined, undefined, ex)
        this.destroy(ex)
        return
      }
      const again = handle.ipcAgain
      if (again !== undefined) {
        handle.ipcAgain = undefined
        connected!.handle.close(noop)
        if (this.destroyed) return
        const ex = exceptionWithHostPort({ code: "EISCONN", syscall: "connect" }, "connect", again, undefined)
        this.emit("connectionAttemptFailed", again, undefined, undefined, ex)
        this.destroy(ex)
        return
      }
      this.afterConnect(connected!)
    })
    inCall = false
    if (this._handle === handle && !this.destroyed && this.connecting) handle.cancel = cancel
  }

  /**
   * @internal Node's `internalConnect`: one attempt at `ip:port`, binding the
   * local address first when one is asked; on a handle that is connecting or
   * connected, what the platform answers a second connect on it.
   */
  _internalConnect(
    ip: string,
    port: number,
    addressType: 4 | 6,
    localAddress: string | undefined,
    localPort: number | undefined
  ): void {
    const handle = this._handle!
    if (handle.cancel !== undefined || handle.reconnecting || handle.connection !== undefined) {
      this.connectBusy(ip, port, addressType, localAddress, localPort)
      return
    }
    this.dial(
      {
        _tag: "Tcp",
        host: ip,
        port,
        family: addressType,
        hints: 0,
        autoSelectFamily: false,
        autoSelectFamilyAttemptTimeoutMs: 0,
        localAddress: localAddress || undefined,
        localPort: localPort || undefined,
        blocked: this.blocked()
      },
      localAddress || undefined,
      localPort || undefined
    )
  }

  /**
   * @internal Node's `internalConnectMultiple`: the addresses of a lookup
   * tried in turn (happy eyeballs), each bounded by `timeout`; the engine
   * runs the attempts.
   */
  _internalConnectMultiple(
    addresses: ReadonlyArray<DriverTypes.LookupAddress>,
    port: number,
    localPort: number | undefined,
    timeout: number
  ): void {
    const handle = this._handle!
    if (handle.cancel !== undefined || handle.reconnecting || handle.connection !== undefined) {
      // on a busy handle Node would go on to the next address with a new handle: only the first is tried
      this.connectBusy(addresses[0]!.address, port, addressType(addresses[0]!), undefined, localPort)
      return
    }
    this.dial(
      {
        _tag: "Tcp",
        host: this._host ?? "localhost",
        port,
        family: 0,
        hints: 0,
        // the addresses are resolved already: the engine only orders and tries them
        lookup: (_host, _options, callback) => callback(undefined, addresses),
        autoSelectFamily: true,
        autoSelectFamilyAttemptTimeoutMs: timeout,
        localPort: localPort || undefined,
        blocked: this.blocked()
      },
      undefined,
      localPort || undefined
    )
  }

  private blocked(): ((address: string, family: 4 | 6) => boolean) | undefined {
    const blockList = this.blockList
    return blockList === undefined ? undefined : (address, family) => blockList.check(address, `ipv${family}`)
  }

  /** Dials through the engine, reporting each attempt as Node does. */
  private dial(
    request: Engine.ConnectRequest & { _tag: "Tcp" },
    localAddress: string | undefined,
    localPort: number | undefined
  ): void {
    const handle = this._handle!
    let multiple = false
    const observer: Engine.ConnectObserver = {
      onAttempts: () => {
        multiple = true
        this.autoSelectFamilyAttemptedAddresses = []
        this._unrefTimer()
      },
      onAttempt: (address, port, family) => {
        // with several addresses each attempt is a new handle in Node, whose local address is asked anew
        if (multiple) {
          this._sockname = null
          this.autoSelectFamilyAttemptedAddresses.push(`${address}:${port}`)
        }
        this.emit("connectionAttempt", address, port, family)
      },
      onAttemptFailed: (address, port, family, error) => {
        this.emit(
          "connectionAttemptFailed",
          address,
          port,
          family,
          this.connectError(error, address, port, localAddress, localPort)
        )
      },
      onAttemptTimeout: (address, port, family) => {
        this.emit("connectionAttemptTimeout", address, port, family)
      }
    }
    const cancel = Engine.connect(this.driver, request, observer, (failure, connected) => {
      handle.cancel = undefined
      if (failure !== undefined) {
        const e = failure.error
        if (multiple) {
          const errors = failure.errors.map((x) => this.connectError(x, x.address, x.port, localAddress, localPort))
          this.destroy(errors.length === 0 ? ERR_SOCKET_CONNECTION_TIMEOUT() : aggregate(errors))
          return
        }
        this.destroy(
          e.code === "ERR_IP_BLOCKED"
            ? ERR_IP_BLOCKED(e.address ?? "")
            : this.connectError(e, e.address, e.port, localAddress, localPort)
        )
        return
      }
      this.afterConnect(connected!)
    })
    // (a bind that failed, or a blocked address, has ended the attempt already)
    if (this._handle === handle && this.connecting && !this.destroyed) handle.cancel = cancel
  }

  /**
   * A connect on a handle that is connecting or connected, as the platform
   * answers it on Node's one handle: binding it again is refused; else the
   * attempt is announced and the connect system call fails at once (the
   * message names the local address the handle has), or, on a connected
   * handle, the first one after the handshake succeeds and keeps the
   * connection.
   */
  private connectBusy(
    address: string,
    port: number,
    family: 4 | 6,
    localAddress: string | undefined,
    localPort: number | undefined
  ): void {
    const handle = this._handle!
    if (localAddress || localPort) {
      // the handle is bound already: binding it again is refused, before any attempt
      const local = localAddress || (family === 6 ? "::" : "0.0.0.0")
      this.destroy(exceptionWithHostPort({ code: "EINVAL", syscall: "bind" }, "bind", local, localPort))
      return
    }
    this.emit("connectionAttempt", address, port, family)
    if (this.blockList?.check(address, `ipv${family}`) === true) {
      this.destroy(ERR_IP_BLOCKED(address))
      return
    }
    let code: "EALREADY" | "EISCONN"
    if (handle.connection === undefined || handle.reconnecting) code = "EALREADY"
    else if (handle.reconnected) code = "EISCONN"
    else {
      // a connected socket: the kernel answers the first connect after the handshake with success and
      // keeps the connection it has
      handle.reconnected = true
      handle.reconnecting = true
      setImmediate(() => {
        handle.reconnecting = false
        if (!this.destroyed && this._handle === handle) this.connected()
      })
      return
    }
    const local = this._getsockname()
    this.destroy(
      exceptionWithHostPort({ code, syscall: "connect" }, "connect", address, port, `${local.address}:${local.port}`)
    )
  }

  /**
   * The error of a failed attempt, as Node's `afterConnect` builds it: a bind
   * that failed names the local end; a connect from a bound local port names
   * it too (` - Local (address:port)`, `localAddress`, `localPort`).
   */
  private connectError(
    error: DriverError,
    address: string | undefined,
    port: number | undefined,
    localAddress: string | undefined,
    localPort: number | undefined
  ): Error {
    // with several addresses, a blocked one is an attempt that failed
    if (error.code === "ERR_IP_BLOCKED") return ERR_IP_BLOCKED(error.address ?? "")
    if (error.syscall === "bind") return exceptionWithHostPort(error, "bind", error.address, error.port)
    // refused within the connect call: Node names the address the socket was bound to (its `_getsockname`)
    if (error.immediate === true && error.local?._tag === "Tcp") {
      return exceptionWithHostPort(error, "connect", address, port, `${error.local.address}:${error.local.port}`)
    }
    if (!localPort) return exceptionWithHostPort(error, "connect", address, port)
    const local = localAddress || (Validate.isIP(address) === 6 ? "::" : "0.0.0.0")
    const ex = exceptionWithHostPort(error, "connect", address, port, `${local}:${localPort}`)
    return Object.assign(ex, { localAddress: local, localPort })
  }

  private afterConnect(connected: Engine.Connected): void {
    if (this.destroyed || this._handle === null) {
      connected.handle.close(noop)
      return
    }
    const connection = new Engine.Connection(this.driver, connected.handle, { allowHalfOpen: this.allowHalfOpen })
    this._handle.connection = connection
    this.attachConnection(connection)
    this.connected()
  }

  private connected(): void {
    this.connecting = false
    this._sockname = null
    this._unrefTimer()
    // through the handle, as Node's afterConnect
    const handle = this._handle
    if (handle instanceof TcpSocketHandle) {
      if (this[kSetNoDelay]) handle.setNoDelay(true)
      if (this[kSetKeepAlive]) handle.setKeepAlive(true, this[kSetKeepAliveInitialDelay])
    }
    this.emit("connect")
    this.emit("ready")
    if (!this.isPaused()) this.read(0)
  }
}

const addressType = (a: DriverTypes.LookupAddress): 4 | 6 => a.family

const aggregate = (errors: Array<Error>): Error => {
  const error = new AggregateError(errors) as AggregateError & { code?: string | undefined }
  error.code = (errors[0] as { code?: string } | undefined)?.code
  return error
}
