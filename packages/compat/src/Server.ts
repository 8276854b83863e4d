/**
 * `net.Server`: an `EventEmitter` over the engine's `Listener`, following
 * Node's `lib/net.js` (`listen` in every form, `'listening'`, `'connection'`,
 * `'drop'`, `'close'` once every connection ended, `getConnections`,
 * `maxConnections`, `ref` / `unref`, `[Symbol.asyncDispose]`).
 *
 * @since 0.1.0
 */
import * as Address from "@sluice/core/Address"
import type { Driver, DriverError, Endpoint, ListenTarget } from "@sluice/core/Driver"
import * as Engine from "@sluice/core/Engine"
import { EventEmitter } from "node:events"
import { getDefaultHighWaterMark } from "node:stream"
import { isBlockList } from "./BlockList.ts"
import type { BlockListLike } from "./BlockList.ts"
import {
  ERR_INVALID_ARG_TYPE,
  ERR_INVALID_ARG_VALUE,
  ERR_SERVER_ALREADY_LISTEN,
  ERR_SERVER_NOT_RUNNING,
  errnoException,
  unsupported,
  uvErrnoException,
  uvExceptionWithHostPort
} from "./errors.ts"
import { driverLookup } from "./internal/lookup.ts"
import * as Observe from "./internal/observe.ts"
import * as Validate from "./internal/validate.ts"
import {
  isPipeName,
  kDriver,
  kPauseOnCreate,
  kSetKeepAlive,
  kSetKeepAliveInitialDelay,
  kSetNoDelay,
  normalizeArgs,
  Socket,
  SocketHandle,
  socketHandle,
  TcpSocketHandle,
  UV_EBADF,
  UV_EINVAL
} from "./Socket.ts"

/** @internal the `Socket` class a bound `Server` creates */
export const kSocket: unique symbol = Symbol("sluice.socketClass")
/** @internal a server's accept, past `onconnection`'s checks */
const kAccept: unique symbol = Symbol("sluice.accept")

/**
 * Options of `net.createServer()`.
 *
 * @category models
 * @since 0.1.0
 */
export interface ServerOpts {
  allowHalfOpen?: boolean | undefined
  pauseOnConnect?: boolean | undefined
  noDelay?: boolean | undefined
  keepAlive?: boolean | undefined
  keepAliveInitialDelay?: number | undefined
  highWaterMark?: number | undefined
  blockList?: BlockListLike | undefined
}

/**
 * Options of `server.listen()`.
 *
 * @category models
 * @since 0.1.0
 */
export interface ListenOptions {
  port?: number | string | null | undefined
  host?: string | undefined
  backlog?: number | undefined
  path?: string | undefined
  exclusive?: boolean | undefined
  readableAll?: boolean | undefined
  writableAll?: boolean | undefined
  ipv6Only?: boolean | undefined
  reusePort?: boolean | undefined
  signal?: AbortSignal | undefined
  fd?: number | undefined
  handle?: unknown
}

/**
 * The address of a TCP server.
 *
 * @category models
 * @since 0.1.0
 */
export interface AddressInfo {
  address: string
  family: string
  port: number
}

const toNumber = (x: unknown): number | false => {
  const n = Number(x)
  return n >= 0 ? n : false
}

/**
 * What a listening server's `_handle` holds, as Node's holds a libuv handle:
 * the engine listener, and the server its connections go to. Another server
 * given it (`listen(server)`, `listen({ handle: server._handle })`) becomes
 * that owner, as in Node: both then share one listener, and closing either
 * stops it.
 *
 * @category models
 * @since 0.1.0
 */
export class ServerHandle {
  listener: Engine.Listener | undefined = undefined
  closed = false
  owner: Server
  private referenced = true
  constructor(owner: Server) {
    this.owner = owner
  }
  /**
   * The accept path, as libuv's handle calls Node's `onconnection`: with 0
   * and the accepted connection's handle (a {@link SocketHandle}), on the
   * handle (`this`). Replacing or wrapping it sees every connection the
   * engine accepted (its limits and block list decided first); the default
   * makes the `net.Socket` and emits `'connection'` on the owner.
   */
  onconnection(error: number, clientHandle: SocketHandle | undefined): void {
    const self = this.owner
    if (error) {
      self.emit("error", uvErrnoException(error, "accept"))
      return
    }
    if (clientHandle !== undefined) self[kAccept](clientHandle)
  }
  /**
   * Closes the listener under the server, as libuv's `close`: the server is
   * not told (it stays `listening`; `address()` throws `EBADF`; connections
   * are refused until `server.close()`, which still emits `'close'`);
   * `callback` runs on a later turn.
   */
  close(callback?: () => void): void {
    if (this.closed) return
    this.closed = true
    this.listener?.close()
    setImmediate(() => {
      if (typeof callback === "function") callback.call(this)
    })
  }
  ref(): void {
    this.referenced = true
    this.listener?.handle.ref()
  }
  unref(): void {
    this.referenced = false
    this.listener?.handle.unref()
  }
  hasRef(): boolean {
    return this.referenced && !this.closed
  }
  /** The platform's descriptor, as libuv's `fd`: -1 once closed, or where the driver has none. */
  get fd(): number {
    if (this.closed) return -1
    return this.listener?.handle.fd?.() ?? -1
  }
  /** The bound address, as libuv's `getsockname`: 0, or a negative errno (`EBADF` once closed). */
  getsockname(out: Record<string, unknown>): number {
    if (this.closed || this.listener === undefined) return UV_EBADF
    const e = this.listener.endpoint()
    if (e._tag !== "Tcp") return UV_EINVAL
    out["address"] = e.address
    out["family"] = e.family
    out["port"] = e.port
    return 0
  }
}

/**
 * `net.Server` over Sluice's engine.
 *
 * @category models
 * @since 0.1.0
 */
export class Server extends EventEmitter {
  /** @internal set on the prototype of a bound class by `createNet` */
  declare readonly [kDriver]: Driver | undefined
  /** @internal set on the prototype of a bound class by `createNet` */
  declare readonly [kSocket]: typeof Socket

  _connections = 0
  _handle: ServerHandle | null = null
  _usingWorkers = false
  _workers: Array<unknown> = []
  _unref = false
  _listeningId = 1
  allowHalfOpen: boolean
  pauseOnConnect: boolean
  noDelay: boolean
  keepAlive: boolean
  keepAliveInitialDelay: number
  highWaterMark: number
  declare blockList: BlockListLike | undefined
  /** Connections beyond this many are dropped (`undefined` until set, as in Node; typed as @types/node does). */
  declare maxConnections: number
  declare _pipeName: string | undefined
  declare _connectionKey: string | undefined

  constructor(connectionListener?: (socket: Socket) => void)
  constructor(options?: ServerOpts, connectionListener?: (socket: Socket) => void)
  constructor(options?: unknown, connectionListener?: unknown) {
    super()
    let opts: ServerOpts
    if (typeof options === "function") {
      opts = {}
      this.on("connection", options as (socket: Socket) => void)
    } else if (options == null || typeof options === "object") {
      opts = { ...(options as ServerOpts) }
      if (typeof connectionListener === "function") {
        this.on("connection", connectionListener as (socket: Socket) => void)
      }
    } else throw ERR_INVALID_ARG_TYPE("options", "Object", options)
    if (opts.keepAliveInitialDelay !== undefined) {
      Validate.validateNumber(opts.keepAliveInitialDelay, "options.keepAliveInitialDelay")
      if (opts.keepAliveInitialDelay < 0) opts.keepAliveInitialDelay = 0
    }
    if (opts.highWaterMark !== undefined) {
      Validate.validateNumber(opts.highWaterMark, "options.highWaterMark")
      // as Node: a negative high water mark means the default
      if (opts.highWaterMark < 0) opts.highWaterMark = getDefaultHighWaterMark(false)
    }
    this.allowHalfOpen = opts.allowHalfOpen || false
    this.pauseOnConnect = !!opts.pauseOnConnect
    this.noDelay = Boolean(opts.noDelay)
    this.keepAlive = Boolean(opts.keepAlive)
    this.keepAliveInitialDelay = ~~((opts.keepAliveInitialDelay ?? 0) / 1000)
    this.highWaterMark = opts.highWaterMark ?? getDefaultHighWaterMark(false)
    if (opts.blockList) {
      if (!isBlockList(opts.blockList)) throw ERR_INVALID_ARG_TYPE("options.blockList", "net.BlockList", opts.blockList)
      this.blockList = opts.blockList
    }
  }

  /** The driver this server's class is bound to. */
  get driver(): Driver {
    const driver = this[kDriver]
    if (driver === undefined) throw new TypeError("net.Server is not bound to a driver: use createNet(driver)")
    return driver
  }

  get listening(): boolean {
    return this._handle !== null && this._handle.listener !== undefined
  }

  /** @internal */
  get connections(): number {
    return this._connections
  }

  listen(port?: number, hostname?: string, backlog?: number, listeningListener?: () => void): this
  listen(port?: number, hostname?: string, listeningListener?: () => void): this
  listen(port?: number, backlog?: number, listeningListener?: () => void): this
  listen(port?: number, listeningListener?: () => void): this
  listen(path: string, backlog?: number, listeningListener?: () => void): this
  listen(path: string, listeningListener?: () => void): this
  listen(options: ListenOptions, listeningListener?: () => void): this
  listen(handle: unknown, backlog?: number, listeningListener?: () => void): this
  listen(handle: unknown, listeningListener?: () => void): this
  listen(...args: Array<unknown>): this {
    const normalized = normalizeArgs(args)
    let options = normalized[0] as ListenOptions & Record<string, unknown>
    const cb = normalized[1]
    if (this._handle !== null) throw ERR_SERVER_ALREADY_LISTEN()
    // as Node: published before the options are checked (a listen that then throws included)
    if (Observe.serverListen.hasSubscribers) Observe.serverListen.asyncStart.publish({ server: this, options })
    if (cb !== null) this.once("listening", cb)
    const backlogFromArgs = toNumber(args.length > 1 && args[1]) || toNumber(args.length > 2 && args[2])
    options = ((options["_handle"] as typeof options | undefined) || options.handle || options) as typeof options
    this._listeningId++
    if (options instanceof ServerHandle) {
      this.listenOnHandle(options)
      return this
    }
    if (options instanceof SocketHandle) {
      // a socket's handle is connected (or connecting): the platform refuses to listen on it
      const error = uvExceptionWithHostPort({ code: "EINVAL", syscall: "listen" }, "listen", undefined, -1)
      process.nextTick(() => this.emit("error", Object.assign(error, { address: null })))
      return this
    }
    if (options.signal !== undefined) {
      Validate.validateAbortSignal(options.signal, "options.signal")
      const signal = options.signal
      if (signal.aborted) {
        process.nextTick(() => this.close())
      } else {
        const onAborted = () => this.close()
        signal.addEventListener("abort", onAborted, { once: true })
        this.once("close", () => signal.removeEventListener("abort", onAborted))
      }
    }
    if (typeof options.fd === "number" && options.fd >= 0) {
      const target: ListenTarget = { _tag: "Fd", fd: options.fd, backlog: backlogOf(undefined, backlogFromArgs) }
      this.listenOn(target, null, null, () => "null:null:null")
      return this
    }
    if (
      args.length === 0 || typeof args[0] === "function"
      || (typeof options.port === "undefined" && "port" in options) || options.port === null
    ) {
      options.port = 0
    }
    if (typeof options.port === "number" || typeof options.port === "string") {
      Validate.validatePort(options.port, "options.port")
      const port = (options.port as number) | 0
      const backlog = backlogOf(options.backlog, backlogFromArgs)
      // as Node, which sets it on the options it was given
      if (options.reusePort === true) options.exclusive = true
      const tcp = {
        port,
        backlog,
        exclusive: !!options.exclusive,
        ipv6Only: options.ipv6Only === true,
        reusePort: options.reusePort === true
      }
      if (options.host) this.lookupAndListen(options.host, tcp)
      else {
        // on every interface: IPv6 (dual-stack) where the platform has it, as Node tries first
        this.listenOn(
          { _tag: "Tcp", host: undefined, ...tcp },
          null,
          port,
          (e) => e._tag === "Tcp" && e.family === "IPv6" ? `6:::${port}` : `4:0.0.0.0:${port}`
        )
      }
      return this
    }
    if (options.path && isPipeName(options.path)) {
      if (options.path[0] === "\0" && (options.readableAll || options.writableAll)) {
        throw ERR_INVALID_ARG_VALUE(
          "options",
          options,
          "can not set readableAll or writableAllt to true when path is abstract unix socket"
        )
      }
      const pipeName = this._pipeName = options.path
      this.listenOn(
        {
          _tag: "Ipc",
          path: pipeName,
          backlog: backlogOf(options.backlog, backlogFromArgs),
          exclusive: !!options.exclusive,
          readableAll: options.readableAll === true,
          writableAll: options.writableAll === true
        },
        pipeName,
        -1,
        () => `-1:${pipeName}:-1`
      )
      return this
    }
    if (!("port" in options || "path" in options)) {
      throw ERR_INVALID_ARG_VALUE("options", options, "must have the property \"port\" or \"path\"")
    }
    throw ERR_INVALID_ARG_VALUE("options", options)
  }

  /** `listen(handle)` with another server's handle: take its listener over, as Node takes over a libuv handle. */
  private listenOnHandle(shared: ServerHandle): void {
    if (shared.closed || shared.listener === undefined) {
      const error = uvExceptionWithHostPort({ code: "EBADF", syscall: "listen" }, "listen", undefined, -1)
      process.nextTick(() => this.emit("error", Object.assign(error, { address: null })))
      return
    }
    const e = shared.listener.endpoint()
    if (e._tag === "Ipc") {
      // Node takes over only a TCP handle; a pipe's is opened again by its descriptor, which the loop already watches
      const error = uvExceptionWithHostPort({ code: "EEXIST", syscall: "listen" }, "listen", undefined, undefined)
      process.nextTick(() => this.emit("error", Object.assign(error, { address: null })))
      return
    }
    shared.owner = this
    // the new owner's policy applies from now on, as Node's onconnection reads it from the handle's owner
    const listener = shared.listener
    listener.allowHalfOpen = this.allowHalfOpen
    listener.blocked = this.blockList === undefined
      ? undefined
      : (address, family) => this.blockList?.check(address, `ipv${family}`) === true
    this._handle = shared
    // as Node's, which listens on a handle with no address and port of its own
    this._connectionKey = "-1:null:-1"
    if (this._unref) shared.listener.handle.unref()
    Observe.listenDone(this)
    process.nextTick(() => {
      if (this._handle === shared) this.emit("listening")
    })
  }

  /**
   * Node's `lookupAndListen`: every address of the name (`dns.lookup` with
   * `all`), the first that is not IPv6 link-local listened on; the lookup's
   * own error is emitted as it is.
   */
  private lookupAndListen(
    host: unknown,
    tcp: { port: number; backlog: number; exclusive: boolean; ipv6Only: boolean; reusePort: boolean }
  ): void {
    const listeningId = this._listeningId
    driverLookup(this.driver)(host as string, { all: true }, (err, addresses) => {
      if (listeningId !== this._listeningId) return
      if (err) {
        this.emit("error", err)
        return
      }
      const validAddress = filterOnlyValidAddress(addresses as ReadonlyArray<{ address: string; family: number }>)
      const family = validAddress?.family || 4
      const address = validAddress!.address
      this.listenOn({ _tag: "Tcp", host: address, ...tcp }, address, tcp.port, () => `${family}:${address}:${tcp.port}`)
    })
  }

  /**
   * Binds and listens through the engine; `key` makes Node's
   * `_connectionKey` from the bound endpoint (Node's names the address and
   * port asked for).
   */
  private listenOn(
    target: ListenTarget,
    address: string | null,
    port: number | null,
    key: (endpoint: Endpoint) => string
  ): void {
    const driver = this.driver
    if (target._tag === "Fd" && !driver.capabilities.fd) {
      const error = unsupported("listen", `the ${driver.name} driver cannot listen on a file descriptor`)
      process.nextTick(() => this.emit("error", error))
      return
    }
    if (target._tag === "Ipc" && !driver.capabilities.ipc) {
      const error = unsupported("listen", `the ${driver.name} driver has no local sockets`)
      process.nextTick(() => this.emit("error", error))
      return
    }
    if (target._tag === "Tcp" && target.reusePort && !driver.capabilities.reusePort) {
      const error = unsupported("listen", `the ${driver.name} driver has no reusePort`)
      process.nextTick(() => this.emit("error", error))
      return
    }
    const state = new ServerHandle(this)
    this._handle = state
    let sync = true
    Engine.listen(
      driver,
      target,
      {
        // to the handle's owner: another server may have taken it over (`listen(server)`)
        onConnection: (connection) => state.onconnection(0, socketHandle(connection.isIpc(), connection)),
        onDrop: (info) => state.owner.onDrop(info),
        onError: (error) => state.owner.emit("error", errnoException(error, "accept"))
      },
      {
        allowHalfOpen: this.allowHalfOpen,
        // read at each accept: `maxConnections` may change at any time, as in Node
        limit: () => state.owner.maxConnections,
        blocked: this.blockList === undefined
          ? undefined
          : (address, family) => this.blockList?.check(address, `ipv${family}`) === true
      },
      (error, listener) => {
        const wasSync = sync
        if (error !== undefined || listener === undefined) {
          if (this._handle === state) this._handle = null
          const ex = this.listenError(error!, target, address, port)
          Observe.listenFailed(this, ex)
          if (wasSync) process.nextTick(() => this.emit("error", ex))
          else this.emit("error", ex)
          return
        }
        if (state.closed) {
          listener.close()
          return
        }
        state.listener = listener
        this._connectionKey = key(listener.endpoint())
        if (this._unref) listener.handle.unref()
        Observe.listenDone(this)
        const emit = () => {
          if (this._handle === state) this.emit("listening")
        }
        if (wasSync) process.nextTick(emit)
        else emit()
      }
    )
    sync = false
  }

  private listenError(error: DriverError, target: ListenTarget, address: string | null, port: number | null) {
    // as Node: a descriptor's error names no address (`null`) and no port
    if (target._tag === "Fd") return uvExceptionWithHostPort(error, "listen", null, undefined)
    const where = error.address ?? (target._tag === "Ipc" ? target.path : address ?? undefined)
    const p = error.port ?? port ?? undefined
    return uvExceptionWithHostPort(error, "listen", where, p)
  }

  private onDrop(info: Engine.DropInfo): void {
    const data: Record<string, unknown> = Object.create(null)
    if (info.local?._tag === "Tcp") {
      data["localAddress"] = info.local.address
      data["localPort"] = info.local.port
      data["localFamily"] = info.local.family
    }
    if (info.remote?._tag === "Tcp") {
      data["remoteAddress"] = info.remote.address
      data["remotePort"] = info.remote.port
      data["remoteFamily"] = info.remote.family
    }
    if (info.local?._tag === "Tcp" || info.remote?._tag === "Tcp") this.emit("drop", data)
    else this.emit("drop")
  }

  /** @internal Node's `onconnection` past its checks: a socket over the accepted handle, then `'connection'`. */
  [kAccept](clientHandle: SocketHandle): void {
    const SocketClass = this[kSocket]
    const socket = new SocketClass({
      handle: clientHandle,
      [kPauseOnCreate]: this.pauseOnConnect,
      allowHalfOpen: this.allowHalfOpen,
      readable: true,
      writable: true,
      readableHighWaterMark: this.highWaterMark,
      writableHighWaterMark: this.highWaterMark
    })
    // on the handle, before the 'connection' listeners run, as Node's
    if (clientHandle instanceof TcpSocketHandle) {
      if (this.noDelay) {
        socket[kSetNoDelay] = true
        clientHandle.setNoDelay(true)
      }
      if (this.keepAlive) {
        socket[kSetKeepAlive] = true
        socket[kSetKeepAliveInitialDelay] = this.keepAliveInitialDelay
        clientHandle.setKeepAlive(true, this.keepAliveInitialDelay)
      }
    }
    this._connections++
    socket.server = this
    socket._server = this
    this.emit("connection", socket)
    if (Observe.serverSocket.hasSubscribers) Observe.serverSocket.publish({ socket })
  }

  /**
   * As Node's, with `captureRejections`: a rejected `'connection'` listener
   * destroys that socket, any other event's rejection is an `'error'`.
   */
  override [EventEmitter.captureRejectionSymbol](error: Error, event: string | symbol, ...args: Array<unknown>): void {
    if (event === "connection") (args[0] as Socket).destroy(error)
    else this.emit("error", error)
  }

  address(): AddressInfo | string | null {
    const handle = this._handle
    const listener = handle?.listener
    if (handle != null && listener !== undefined) {
      // a pipe has no name to ask for: Node answers with the path it listened on, `null` after `listen({ fd })`
      if (listener.endpoint()._tag === "Ipc") return this._pipeName ?? null
      // through the handle, as Node's
      if (typeof handle.getsockname === "function") {
        const out: Record<string, unknown> = {}
        const err = handle.getsockname(out)
        if (err) throw uvErrnoException(err, "address")
        return out as unknown as AddressInfo
      }
    }
    if (this._pipeName) return this._pipeName
    return null
  }

  close(callback?: (err?: Error) => void): this {
    // a listen still resolving its host is abandoned
    this._listeningId++
    if (typeof callback === "function") {
      if (this._handle === null) this.once("close", () => callback(ERR_SERVER_NOT_RUNNING()))
      else this.once("close", callback)
    }
    const state = this._handle
    if (state !== null) {
      state.closed = true
      state.listener?.close()
      this._handle = null
    }
    this._emitCloseIfDrained()
    return this
  }

  /** @internal */
  _emitCloseIfDrained(): void {
    if (this._handle !== null || this._connections) return
    process.nextTick(() => this.emit("close"))
  }

  getConnections(cb: (error: Error | null, count: number) => void): this {
    process.nextTick(cb, null, this._connections)
    return this
  }

  ref(): this {
    this._unref = false
    this._handle?.ref()
    return this
  }

  unref(): this {
    this._unref = true
    this._handle?.unref()
    return this
  }

  [Symbol.asyncDispose](): Promise<void> {
    if (this._handle === null) return Promise.resolve()
    return new Promise((resolve, reject) => this.close((err) => (err ? reject(err) : resolve())))
  }
}

const backlogOf = (backlog: number | undefined, fromArgs: number | false): number => backlog || fromArgs || 511

/** `true` for an IPv6 link-local address (`fe80::/10`). */
const isIpv6LinkLocal = (ip: string): boolean => {
  if (!Address.isIPv6(ip)) return false
  const bits = Address.toBits(ip.replace(/%.*$/, ""), 6)
  return bits !== undefined && bits >> 118n === 0x3fan
}

/** The first address that is not IPv6 link-local, else the first (Node's `filterOnlyValidAddress`). */
const filterOnlyValidAddress = <A extends { readonly address: string }>(addresses: ReadonlyArray<A>): A | undefined => {
  for (const address of addresses) if (!isIpv6LinkLocal(address.address)) return address
  return addresses[0]
}
