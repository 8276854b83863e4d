/**
 * The driver that binds Sluice's engine to `node:net`.
 *
 * node:net runs in its most permissive, paused mode (`allowHalfOpen: true`,
 * `pauseOnConnect: true`, no timeouts, no connection limits): the engine
 * decides everything, the driver only moves bytes and normalises errors.
 *
 * @since 0.1.0
 */
import type {
  ConnectTarget,
  DialHooks,
  Driver,
  DriverError,
  Endpoint,
  Handle,
  HandleEvents,
  ListenerEvents,
  ListenerHandle,
  ListenTarget,
  LookupAddress,
  LookupOptions,
  PendingConnect
} from "@sluice/core/Driver"
import { hostTimers } from "@sluice/core/Driver"
import { errnoOf } from "@sluice/core/Errno"
import type { Paths } from "@sluice/core/MemoryNetwork"
import type * as Dns from "node:dns"
import type * as Fs from "node:fs"
import type * as Net from "node:net"
import { quiet } from "./internal/quiet.ts"
import type { Bindings } from "./internal/raw.ts"
import * as Raw from "./internal/raw.ts"

// Node's modules as `require` gives them: an ESM import of a built-in builds its
// namespace by reading every export, which loads the lazy ones too (`fs.promises`
// and its readline, `net.BlockList`, `dns.promises`), a few milliseconds of start-up
// for what the driver never uses. node:dns is taken at the first lookup (or the
// first read of the lookup flags), as node:net takes it: a program that only
// listens, or dials IP addresses, never loads it.
let dnsModule: typeof Dns | undefined
const dns = (): typeof Dns => (dnsModule ??= process.getBuiltinModule("node:dns"))
const fs = process.getBuiltinModule("node:fs")
const net = process.getBuiltinModule("node:net")

interface ErrnoLike {
  readonly code?: unknown
  readonly errno?: unknown
  readonly syscall?: unknown
  readonly address?: unknown
  readonly port?: unknown
  readonly hostname?: unknown
}

/**
 * Normalises a Node error into a driver error.
 *
 * @category errors
 * @since 0.1.0
 */
export const toDriverError = (error: unknown, fallbackSyscall: string): DriverError => {
  const e = (typeof error === "object" && error !== null ? error : {}) as ErrnoLike
  return {
    code: typeof e.code === "string" ? e.code : "UNKNOWN",
    errno: typeof e.errno === "number" ? e.errno : undefined,
    syscall: typeof e.syscall === "string" ? e.syscall : fallbackSyscall,
    address: typeof e.address === "string" ? e.address : typeof e.hostname === "string" ? e.hostname : undefined,
    port: typeof e.port === "number" ? e.port : undefined,
    cause: error
  }
}

const noData = (_chunk: Uint8Array, _borrowed: boolean): void => {}

const ignore = (): void => {}
const detachedEvents: HandleEvents = { onData: ignore, onEnd: ignore, onError: ignore }

/**
 * The buffer every socket reads into (node:net's `onread` option, which skips
 * its `Readable` machinery): each read is handed to the engine as a borrowed
 * view, valid until the callback returns, so one buffer serves every socket,
 * an idle socket holds no read buffer, and a reader that copies into its own
 * buffer (`Socket.readInto`) allocates nothing per read. 64 KiB, node:net's
 * own read size.
 */
const sharedBuffer = new Uint8Array(65536)

/** Hands each read of one socket to its handle. */
class PooledReader {
  handle: NodeHandle | undefined = undefined
  readonly buffer = sharedBuffer
  readonly callback = (n: number, buffer: Uint8Array): boolean => {
    this.handle?.onData(buffer.subarray(0, n), true)
    return true
  }
}

class NodeHandle implements Handle, Raw.TakeOver {
  readonly socket: Net.Socket
  private readonly path: string | undefined
  /** Reads arrive through `onread` (a {@link PooledReader}) rather than `'data'` events. */
  private readonly pooled: boolean
  /** Receives pooled reads once bound. */
  onData: (chunk: Uint8Array, borrowed: boolean) => void = noData
  /** The receiver of the socket's events (replaced when `bind` is called again). */
  private events: HandleEvents = detachedEvents
  private bound = false
  constructor(socket: Net.Socket, path: string | undefined, reader: PooledReader | undefined) {
    this.socket = socket
    this.path = path
    this.pooled = reader !== undefined
    if (reader !== undefined) reader.handle = this
  }
  bind(events: HandleEvents): void {
    this.events = events
    if (this.bound) return
    this.bound = true
    const s = this.socket
    // called on `events`: the engine's connection receives them as prototype methods
    if (this.pooled) this.onData = (chunk, borrowed) => this.events.onData(chunk, borrowed)
    else s.on("data", this.dataListener)
    s.on("end", this.endListener)
    s.on("error", this.errorListener)
  }
  /** Hands the socket to a TLS layer (see `Raw.takeOver`): paused, with none of this handle's listeners. */
  [Raw.takeOver](callback: (socket: Net.Socket | undefined) => void): void {
    const s = this.socket
    if (s.destroyed || s.writableEnded || s.readableEnded) return callback(undefined)
    this.events = detachedEvents
    this.onData = noData
    s.off("data", this.dataListener)
    s.off("end", this.endListener)
    s.off("error", this.errorListener)
    s.pause()
    callback(s)
  }
  private readonly dataListener = (chunk: Uint8Array): void => this.events.onData(chunk)
  private readonly endListener = (): void => this.events.onEnd()
  private readonly errorListener = (error: Error): void => this.events.onError(toDriverError(error, "read"))
  readStart(): void {
    this.socket.resume()
  }
  readStop(): void {
    this.socket.pause()
  }
  write(chunks: ReadonlyArray<Uint8Array>, callback: (error: DriverError | undefined) => void): boolean {
    const s = this.socket
    // nothing queued before and nothing after: the kernel took the write at once
    const idle = s.writableLength === 0 && !s.connecting
    let reported = false
    const done = (error: Error | null | undefined) => {
      if (reported) return
      reported = true
      callback(error ? toDriverError(error, "write") : undefined)
    }
    if (chunks.length === 1) s.write(chunks[0]!, done)
    else {
      s.cork()
      const last = chunks.length - 1
      for (let i = 0; i < last; i++) s.write(chunks[i]!)
      s.write(chunks[last]!, done)
      s.uncork()
    }
    // the platform refused the write at once (EPIPE after a reset): report it
    // at once, as node:net's own write does, instead of on a later tick
    if (!reported && s.errored !== null) {
      done(s.errored)
      return false
    }
    return idle && !reported && s.writableLength === 0
  }
  get writeQueueSize(): number {
    // libuv's own queue (what node:net's idle timeout compares), where the socket has its handle
    const handle = (this.socket as unknown as { _handle?: { writeQueueSize?: unknown } | null })._handle
    return typeof handle?.writeQueueSize === "number" ? handle.writeQueueSize : this.socket.writableLength
  }
  shutdown(callback: (error: DriverError | undefined) => void): void {
    const s = this.socket
    if (s.writableFinished || s.destroyed) {
      callback(undefined)
      return
    }
    if (s.writableEnded) {
      // an earlier shutdown is still flushing: complete with it
      let called = false
      const once = () => {
        if (called) return
        called = true
        s.off("finish", once)
        s.off("close", once)
        callback(undefined)
      }
      s.once("finish", once)
      s.once("close", once)
      return
    }
    s.end(() => callback(undefined))
  }
  private whenClosed(callback: () => void): void {
    // a released handle reports on the next turn of the loop, as a libuv close does
    if (this.socket.closed) setImmediate(callback)
    else this.socket.once("close", callback)
  }
  close(callback: () => void): void {
    this.whenClosed(callback)
    this.socket.destroy()
  }
  reset(callback: () => void): void {
    this.whenClosed(callback)
    if (this.socket.destroyed) return
    this.socket.resetAndDestroy()
  }
  localEndpoint(): Endpoint | undefined {
    if (this.path !== undefined) return { _tag: "Ipc", path: this.path }
    const s = this.socket
    return Raw.tcpEndpoint(s.localAddress, s.localPort, s.localFamily)
  }
  remoteEndpoint(): Endpoint | undefined {
    if (this.path !== undefined) return { _tag: "Ipc", path: this.path }
    const s = this.socket
    return Raw.tcpEndpoint(s.remoteAddress, s.remotePort, s.remoteFamily)
  }
  setNoDelay(enable: boolean): void {
    this.socket.setNoDelay(enable)
  }
  setKeepAlive(enable: boolean, initialDelayMs: number): void {
    this.socket.setKeepAlive(enable, initialDelayMs)
  }
  ref(): void {
    this.socket.ref()
  }
  unref(): void {
    this.socket.unref()
  }
  fd(): number {
    return (this.socket as unknown as { _handle?: { fd?: number } | null })._handle?.fd ?? -1
  }
}

const timers = hostTimers(globalThis)

/** What node:net does; the lookup knows the getaddrinfo flags node:dns exports. */
const capabilities = {
  ipc: true,
  fd: true,
  reusePort: true,
  ipv6: true,
  get lookupHints(): number {
    const { ADDRCONFIG, V4MAPPED, ALL } = dns()
    return ADDRCONFIG | V4MAPPED | ALL
  }
}

const connectRaw = (raw: Bindings) =>
(
  target: ConnectTarget,
  callback: (error: DriverError | undefined, handle: Handle | undefined) => void,
  hooks?: DialHooks
): PendingConnect => Raw.connect(raw, target, callback, hooks)

/** libuv's "invalid argument". */
const UV_EINVAL = -22

/** A block list that blocks every address (see `connectSocket`). */
const refuseEverything = { check: (): boolean => true }

const connectSocket = (
  target: ConnectTarget,
  callback: (error: DriverError | undefined, handle: Handle | undefined) => void,
  hooks?: DialHooks
): PendingConnect => {
  const unusable = Raw.unusableTarget(target)
  if (unusable !== undefined) {
    let cancelled = false
    process.nextTick(() => {
      if (!cancelled) callback(Raw.unusableTargetError(target, unusable), undefined)
    })
    return Object.assign(() => {
      cancelled = true
    }, { local: () => undefined })
  }
  if (target._tag === "Tcp" && target.localAddress !== undefined && net.isIP(target.localAddress) !== target.family) {
    // libuv refuses to bind a local address of the other family (node:net: `bind EINVAL`); Bun's and Deno's
    // node:net do not bind it at all and connect from any address: refuse it as node:net does, on a later tick
    let cancelled = false
    const error = Raw.uvError(UV_EINVAL, "bind", target.localAddress, target.localPort)
    process.nextTick(() => {
      if (!cancelled) callback(error, undefined)
    })
    return Object.assign(() => {
      cancelled = true
    }, { local: (): Endpoint | undefined => undefined })
  }
  // with a local bind, the attempt is announced once the bind succeeded (`announcesLater`); without
  // one, nothing can fail before the dial: the engine announces it as `connect` returns
  const binds = target._tag === "Tcp" && (target.localAddress !== undefined || (target.localPort ?? 0) !== 0)
  const dialHooks = binds ? hooks : undefined
  const reader = new PooledReader()
  const socket = quiet(new net.Socket({ allowHalfOpen: true, onread: reader }))
  socket.pause()
  let settled = false
  const onError = (error: Error) => {
    if (settled) {
      socket.destroy()
      return
    }
    settled = true
    socket.destroy()
    const e = toDriverError(error, "connect")
    const localPort = target._tag === "Tcp" ? target.localPort ?? 0 : 0
    if (target._tag === "Tcp" && e.code === "EADDRINUSE" && localPort > 0 && e.syscall !== "bind") {
      // Bun's node:net reports a local port it cannot bind as the connect's error: it is the bind's, as
      // node:net reports it
      const local = target.localAddress ?? (target.family === 6 ? "::" : "0.0.0.0")
      callback({ ...e, syscall: "bind", address: local, port: localPort }, undefined)
      return
    }
    callback(e, undefined)
  }
  socket.once("error", onError)
  socket.once("connect", () => {
    if (settled) return
    settled = true
    socket.off("error", onError)
    callback(undefined, new NodeHandle(socket, target._tag === "Ipc" ? target.path : undefined, reader))
  })
  // node:net emits 'connectionAttempt' just before its connect system call, after the local bind, on a
  // later tick: the engine's attempt is announced then (`announcesLater`), and abandoned when the hook
  // says so; the local address is asked only after it, as node:net keeps the first answer (even an empty one)
  let attempted = false
  if (target._tag === "Ipc") socket.connect({ path: target.path })
  else {
    socket.once("connectionAttempt", () => {
      attempted = true
      if (dialHooks === undefined || settled || dialHooks.beforeDial()) return
      // abandoned: destroying a net.Socket inside its 'connectionAttempt' crashes node:net (the connect
      // system call follows on a handle it no longer has); its own block-list check, which comes next,
      // stops the dial instead (its ERR_IP_BLOCKED reaches nobody: the attempt is settled)
      settled = true
      ;(socket as { blockList?: unknown }).blockList = refuseEverything
    })
    const options: Net.TcpSocketConnectOpts = {
      host: target.address,
      port: target.port,
      family: target.family,
      autoSelectFamily: false
    }
    if (target.localAddress !== undefined) options.localAddress = target.localAddress
    if (target.localPort !== undefined) options.localPort = target.localPort
    socket.connect(options)
  }
  const local = (): Endpoint | undefined => {
    if (settled || !attempted) return undefined
    const name = socket.address()
    return "port" in name && name.port !== 0 ? Raw.tcpEndpoint(name.address, name.port, name.family) : undefined
  }
  return Object.assign(cancel, { local, announcesLater: dialHooks !== undefined })
  function cancel(): void {
    if (settled) return
    settled = true
    socket.destroy()
  }
}

const open = (
  fd: number,
  callback: (error: DriverError | undefined, handle: Handle | undefined) => void
): void => {
  const reader = new PooledReader()
  let socket: Net.Socket
  try {
    // paused from the start (node:net's own option for accepted sockets):
    // nothing is read before the engine asks; reads are pooled as a client's
    const options = { fd, allowHalfOpen: true, pauseOnCreate: true, onread: reader }
    socket = new net.Socket(options as Net.SocketConstructorOpts)
  } catch (error) {
    const e = error as NodeJS.ErrnoException
    if (e.code === "ERR_INVALID_FD_TYPE") {
      // node:net names the descriptor's kind in its message ("Unsupported fd type: FILE")
      const kind = /: (\w+)$/.exec(e.message)?.[1] ?? "UNKNOWN"
      callback({ code: "ERR_INVALID_FD_TYPE", syscall: "open", address: kind, cause: error }, undefined)
    } else callback(toDriverError(error, "open"), undefined)
    return
  }
  callback(undefined, new NodeHandle(socket, undefined, reader))
}

/**
 * Adopts a connected libuv stream handle (`TCP` or `Pipe`: what a server's
 * `onconnection` receives, or a parent process sends), as
 * `new net.Socket({ handle })` does: on raw handles, the handle itself; on
 * the `net.Socket` driver, a paused `net.Socket` over it.
 */
const adoptWith = (raw: Bindings | undefined) =>
(
  given: unknown,
  callback: (error: DriverError | undefined, handle: Handle | undefined) => void
): void => {
  const known = raw === undefined ? isStreamHandle(given) : given instanceof raw.TCP || given instanceof raw.Pipe
  if (!known || !isStreamHandle(given)) {
    callback({ code: "ERR_INVALID_HANDLE_TYPE", syscall: "open" }, undefined)
    return
  }
  // a local socket's handle has no address to ask for: its path is not known here
  const path = typeof (given as { getsockname?: unknown }).getsockname === "function" ? undefined : ""
  if (raw !== undefined) {
    callback(undefined, new Raw.RawHandle(given as Raw.StreamWrap, path))
    return
  }
  const reader = new PooledReader()
  const options = {
    handle: given,
    allowHalfOpen: true,
    pauseOnCreate: true,
    readable: true,
    writable: true,
    onread: reader
  }
  callback(undefined, new NodeHandle(new net.Socket(options as Net.SocketConstructorOpts), path, reader))
}

/** node:net's listening handle: it calls `onconnection` with each accepted connection's handle. */
interface ListeningHandle {
  onconnection?: (this: ListeningHandle, error: number, clientHandle: unknown) => void
}

/**
 * Whether an accepted handle is a stream handle `net.Socket` can be built on
 * (`readStart`, `writev`, `shutdown`: what node:net drives). Bun's
 * `onconnection` hands over a socket of its own instead, which only its own
 * `onconnection` knows how to wrap.
 */
const isStreamHandle = (u: unknown): boolean => {
  const h = u as { readStart?: unknown; writev?: unknown; shutdown?: unknown } | null | undefined
  return typeof h?.readStart === "function" && typeof h.writev === "function" && typeof h.shutdown === "function"
}

/**
 * Takes node:net's accept path over: the listening handle's `onconnection`
 * (which would construct a `net.Socket` reading through `'data'`) is replaced
 * by one that hands the engine the accepted libuv handle itself (a
 * `RawHandle`), or, on the `net.Socket` driver, the handle wrapped in a
 * paused socket reading through `onread`, as node:net's own would be with
 * `pauseOnConnect`. node:net's connection limit and block list are not used
 * (the engine owns those). When the listening handle is not one node:net
 * accepts on (no `onconnection`), or an accepted handle is not a stream
 * handle (Bun hands its own sockets to `onconnection`), node:net's own
 * accept path runs and its `'connection'` events are used as they are.
 */
const acceptPooled = (
  server: Net.Server,
  path: string | undefined,
  events: ListenerEvents,
  raw: Bindings | undefined
): void => {
  const handle = (server as unknown as { _handle?: ListeningHandle | null })._handle
  if (handle === null || handle === undefined || typeof handle.onconnection !== "function") return
  const own = handle.onconnection
  handle.onconnection = function(error, clientHandle) {
    if (error !== 0 && error !== undefined) {
      events.onError(Raw.uvError(error, "accept"))
      return
    }
    // not a handle node:net would build a socket on (Bun): its own accept path, then 'connection'
    if (!isStreamHandle(clientHandle)) {
      const marked = server as { [ownAccept]?: boolean }
      marked[ownAccept] = true
      try {
        return own.call(this, error, clientHandle)
      } finally {
        marked[ownAccept] = false
      }
    }
    if (raw !== undefined) {
      events.onConnection(new Raw.RawHandle(clientHandle as Raw.StreamWrap, path))
      return
    }
    const reader = new PooledReader()
    const options = {
      handle: clientHandle,
      allowHalfOpen: true,
      pauseOnCreate: true,
      readable: true,
      writable: true,
      onread: reader
    }
    events.onConnection(new NodeHandle(new net.Socket(options as Net.SocketConstructorOpts), path, reader))
  }
}

/**
 * Whether this runtime's node:net applies `ipv6Only` (Node's does; Deno's
 * ignores it, and its listener on `::` accepts IPv4 too): `undefined` until a
 * listener asks for it on the net.Socket driver, then found out once by
 * listening on the IPv4 wildcard with the same port, which only a dual-stack
 * listener holds.
 */
let ipv6OnlyApplied: boolean | undefined = undefined

const probeIpv6Only = (port: number, then: () => void): void => {
  const probe = quiet(net.createServer())
  const done = (applied: boolean) => {
    probe.removeAllListeners()
    probe.on("error", () => {})
    if (ipv6OnlyApplied === undefined) ipv6OnlyApplied = applied
    if (probe.listening) probe.close(then)
    else then()
  }
  probe.once("error", (error: NodeJS.ErrnoException) => done(error.code !== "EADDRINUSE"))
  probe.listen({ host: "0.0.0.0", port, exclusive: true }, () => done(true))
}

/** Set on a listener's `net.Server` while node:net's own accept path runs (see `acceptPooled`). */
const ownAccept: unique symbol = Symbol("sluice.ownAccept")

const listenWith = (raw: Bindings | undefined) =>
(
  target: ListenTarget,
  events: ListenerEvents,
  callback: (error: DriverError | undefined, listener: ListenerHandle | undefined) => void
): void => {
  const ipcPath = target._tag === "Ipc" ? target.path : undefined
  const server = quiet(net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => {
    events.onConnection(new NodeHandle(socket, ipcPath, undefined))
  }))
  const full = events.full
  if (full !== undefined) {
    // a cluster worker's round-robin handle asks the server before it takes a connection (node's
    // `maxConnections != null && _connections >= maxConnections`; `_connections` stays 0 here, the engine
    // counts): a full one refuses it and the primary hands it to another worker, as with node:net's limit.
    // Not to node:net's own accept path where the driver leaves it running (Bun's): the engine drops there
    Object.defineProperty(server, "maxConnections", {
      get: () => ((server as { [ownAccept]?: boolean })[ownAccept] !== true && full() ? 0 : undefined),
      set: () => {},
      configurable: true
    })
  }
  let listening = false
  let retriedStale = false
  server.on("error", (error: NodeJS.ErrnoException) => {
    if (listening) events.onError(toDriverError(error, "accept"))
    else if (
      target._tag === "Ipc" && target.removeStale === true && !retriedStale && error.code === "EADDRINUSE"
    ) {
      // somebody listening answers; a stale file refuses: only then unlink it and retry once
      retriedStale = true
      const probe = quiet(new net.Socket()).connect({ path: target.path })
      probe.once("connect", () => {
        probe.destroy()
        server.close()
        callback(toDriverError(error, "listen"), undefined)
      })
      probe.once("error", (probeError: NodeJS.ErrnoException) => {
        probe.destroy()
        let isSocketFile = false
        try {
          isSocketFile = fs.statSync(target.path).isSocket()
        } catch {
          // gone already: listening again decides
        }
        if (probeError.code === "ECONNREFUSED" && isSocketFile) {
          try {
            fs.unlinkSync(target.path)
          } catch {
            // gone already: listening again decides
          }
          listenOn()
        } else {
          server.close()
          callback(toDriverError(error, "listen"), undefined)
        }
      })
    } else {
      server.close()
      callback(toDriverError(error, "listen"), undefined)
    }
  })
  let reported = false
  // called twice (at once, and on 'listening'): one probe, whose end calls it again
  let probing = false
  const onListening = () => {
    if (reported || probing) return
    if (raw === undefined && target._tag === "Tcp" && target.ipv6Only === true && ipv6OnlyApplied !== true) {
      const a = server.address()
      if (a !== null && typeof a !== "string" && a.address === "::") {
        if (ipv6OnlyApplied === undefined) {
          probing = true
          probeIpv6Only(a.port, () => {
            probing = false
            onListening()
          })
          return
        }
        reported = true
        server.close()
        callback({
          code: "ENOTSUP",
          errno: errnoOf("ENOTSUP"),
          syscall: "listen",
          address: a.address,
          port: a.port,
          cause: new Error("ipv6Only is not applied by this runtime's node:net: a listener on :: would accept IPv4 too")
        }, undefined)
        return
      }
    }
    reported = true
    listening = true
    acceptPooled(server, ipcPath, events, raw)
    const handle: ListenerHandle = {
      endpoint: () => {
        const a = server.address()
        if (a === null) return { _tag: "Ipc", path: ipcPath ?? "" }
        if (typeof a === "string") return { _tag: "Ipc", path: a }
        return { _tag: "Tcp", address: a.address, port: a.port, family: a.family === "IPv6" ? "IPv6" : "IPv4" }
      },
      // stop listening; unlike node's `server.close` callback, do not wait for
      // open connections (the engine's Listener.close contract: "open
      // connections are not touched"); report once the listening handle is gone
      close: (cb) => {
        server.close()
        setImmediate(cb)
      },
      fd: () => (server as unknown as { _handle?: { fd?: number } | null })._handle?.fd ?? -1,
      ref: () => server.ref(),
      unref: () => server.unref()
    }
    callback(undefined, handle)
  }
  server.once("listening", onListening)
  const listenOn = () => {
    switch (target._tag) {
      case "Tcp": {
        const options: Net.ListenOptions & { reusePort?: boolean } = {
          port: target.port,
          backlog: target.backlog,
          exclusive: target.exclusive,
          ipv6Only: target.ipv6Only
        }
        if (target.host !== undefined) options.host = target.host
        if (target.reusePort) options.reusePort = true
        server.listen(options)
        break
      }
      case "Ipc":
        server.listen({
          path: target.path,
          backlog: target.backlog,
          exclusive: target.exclusive,
          readableAll: target.readableAll,
          writableAll: target.writableAll
        })
        break
      case "Fd":
        server.listen({ fd: target.fd, backlog: target.backlog })
        break
    }
  }
  try {
    listenOn()
  } catch (error) {
    // node:net throws on options it refuses (a host that is not a string): a driver reports, never throws
    server.close()
    process.nextTick(callback, toDriverError(error, "listen"), undefined)
    return
  }
  // node:net binds synchronously (its address is readable as soon as `listen`
  // returns): report the listener at once too, so that faces can do the same
  if (server.listening) onListening()
}

const lookup = (
  hostname: string,
  options: LookupOptions,
  callback: (error: DriverError | undefined, addresses: ReadonlyArray<LookupAddress>) => void
): () => void => {
  let cancelled = false
  if (typeof hostname !== "string") {
    // dns.lookup throws on it: a driver reports, never throws
    process.nextTick(() => {
      if (!cancelled) {
        callback({ code: "EINVAL", syscall: "getaddrinfo", cause: "a host name that is not a string" }, [])
      }
    })
    return () => {
      cancelled = true
    }
  }
  // through the module object, so code that replaces dns.lookup is honoured;
  // with the options node:net itself passes (no `all` unless every address is wanted)
  const family = options.family === 0 ? undefined : options.family
  // dns.lookup validates its arguments by throwing; its callers check them
  // first (compat as dns.lookup does, the Effect face `hints` against
  // `capabilities.lookupHints`)
  if (options.all) {
    dns().lookup(hostname, { family, hints: options.hints, all: true }, (error, addresses) => {
      if (cancelled) return
      if (error) callback(toDriverError(error, "getaddrinfo"), [])
      else callback(undefined, addresses.map((a) => ({ address: a.address, family: a.family as 4 | 6 })))
    })
  } else {
    dns().lookup(hostname, { family, hints: options.hints }, (error, address, addressFamily) => {
      if (cancelled) return
      if (error) callback(toDriverError(error, "getaddrinfo"), [])
      else callback(undefined, [{ address, family: addressFamily as 4 | 6 }])
    })
  }
  return () => {
    cancelled = true
  }
}

/**
 * The node:net driver with a `net.Socket` under every connection (reads
 * through its `onread` option into one shared buffer). {@link driver} is this
 * one where node's libuv handle bindings are not reachable: `process.binding`
 * missing or a binding without what the driver uses, or a process run with
 * `--pending-deprecation` or `NODE_PENDING_DEPRECATION=1` (on which
 * `process.binding` warns). Both keep the
 * same contract; the behaviour suite runs on both.
 *
 * @category drivers
 * @since 0.1.0
 */
export const netSocketDriver: Driver = {
  name: "node (net.Socket)",
  capabilities,
  timers,
  connect: connectSocket,
  listen: listenWith(undefined),
  open,
  adopt: adoptWith(undefined),
  lookup
}

/**
 * The node:net driver. Listening goes through `net.Server` (host lookup,
 * cluster, descriptors, `exclusive`, `reusePort` and the rest as node:net does
 * them); every connection, accepted or dialled, runs on node's libuv stream
 * handle directly, as `net.Socket` drives it, without a `net.Socket` on top
 * (a connection then costs what node:net's does, or less). Where those
 * handles are not reachable (see {@link netSocketDriver}) the driver is that
 * one.
 *
 * @example
 * ```ts
 * import { NodeDriver } from "@sluice/node-adapter"
 * import { createNet } from "@sluice/compat"
 *
 * const net = createNet(NodeDriver.driver)
 * ```
 *
 * @category drivers
 * @since 0.1.0
 */
export const driver: Driver = Raw.bindings === undefined ? netSocketDriver : {
  name: "node",
  capabilities,
  timers,
  connect: connectRaw(Raw.bindings),
  listen: listenWith(Raw.bindings),
  open,
  adopt: adoptWith(Raw.bindings),
  lookup
}

/**
 * This host's file system as a memory network's local sockets see it
 * (`MemoryNetwork.make({ paths: NodeDriver.paths })`): listening on a path
 * there then fails as it does on real sockets (an existing file or directory,
 * a missing directory, a file where a directory should be), so a test that
 * puts its sockets in a temp directory behaves the same on both drivers. It
 * only reads (`lstat`, `stat`); the memory network creates no files.
 *
 * @example
 * ```ts
 * import { MemoryNetwork } from "@sluice/core"
 * import { NodeDriver } from "@sluice/node-adapter"
 *
 * const network = MemoryNetwork.make({ paths: NodeDriver.paths })
 * ```
 *
 * @category file system
 * @since 0.1.0
 */
export const paths: Paths = {
  kind: (path) => {
    let stats: Fs.Stats
    try {
      stats = fs.lstatSync(path)
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      return code === "ENOENT" ? "missing" : code === "ENOTDIR" ? "notDirectory" : "denied"
    }
    if (stats.isSymbolicLink()) {
      // a link to a directory is one; a link to nothing is still an entry (a bind there fails)
      try {
        stats = fs.statSync(path)
      } catch {
        return "file"
      }
    }
    return stats.isDirectory() ? "directory" : stats.isSocket() ? "socket" : "file"
  }
}
