/**
 * TLS for Sluice over `node:tls`: the provider of `@sluice/core`'s `Tls`
 * capability. `NodeTls.layer` gives `Network.connect` and `Network.listen`
 * their `tls` option and `Tls.upgrade` / `Tls.upgradeServer` (STARTTLS), on
 * any driver: real sockets and the memory network alike.
 *
 * **How a connection is encrypted.** Each side of a session is a
 * `Tls.SecureHandle` over the connection's driver handle, driving Node's own
 * `tls.TLSSocket` (Node does the cryptography, the certificate checks, SNI
 * and ALPN):
 *
 * - on the node driver's handles (a libuv TCP or pipe handle, or the
 *   `net.Socket` of `NodeDriver.netSocketDriver`), the connection is handed
 *   to a `net.Socket` on the same libuv handle and Node's native TLS stream
 *   (`TLSWrap`) is put straight on it, exactly as `tls.connect({ socket })`
 *   and `tls.Server` do: ciphertext never crosses into JavaScript;
 * - on any other handle (the memory network, a wrapped handle), the handle
 *   becomes a `stream.Duplex` under Node's TLS (which wraps it in its
 *   JavaScript stream socket), so the same TLS code runs in memory, with
 *   seeded faults and virtual time.
 *
 * Plaintext then reaches the engine from the `TLSSocket`'s reads, so the
 * engine's connection, and every rule it keeps (half-close, idle timeout,
 * limits, errors), runs above TLS unchanged. A server checks a client
 * certificate as `tls.Server` does (a client without a valid one is refused
 * when `rejectUnauthorized`); a client checks the server as `tls.connect`
 * does (the chain, then the host name, or the custom `checkServerIdentity`).
 *
 * @since 0.1.0
 */
import type { DriverError, Endpoint, Handle, HandleEvents } from "@sluice/core/Driver"
import * as Tls from "@sluice/core/Tls"
import * as Layer from "effect/Layer"
import type * as crypto from "node:crypto"
import type * as net from "node:net"
import type * as Stream from "node:stream"
import type * as tls from "node:tls"
import * as Raw from "./internal/raw.ts"
import { toDriverError } from "./NodeDriver.ts"

// Node's modules as `require` gives them (see NodeDriver.ts); `node:tls` and
// `node:crypto` only once TLS is used: a program that never encrypts loads neither
const { Duplex } = process.getBuiltinModule("node:stream")
type Duplex = Stream.Duplex
let tlsModule: typeof tls | undefined
let cryptoModule: typeof crypto | undefined
const nodeTls = (): typeof tls => (tlsModule ??= process.getBuiltinModule("node:tls"))
const nodeCrypto = (): typeof crypto => (cryptoModule ??= process.getBuiltinModule("node:crypto"))

const noop = (): void => {}
const detachedEvents: HandleEvents = { onData: noop, onEnd: noop, onError: noop }

// ---------------------------------------------------------------------------
// certificates and sessions as plain data
// ---------------------------------------------------------------------------

/**
 * A certificate as plain data, from Node's `X509Certificate`.
 *
 * @category certificates
 * @since 0.1.0
 */
export const certificateOf = (x509: crypto.X509Certificate): Tls.Certificate => ({
  subject: x509.subject,
  issuer: x509.issuer,
  subjectAltName: x509.subjectAltName,
  validFrom: new Date(x509.validFrom),
  validTo: new Date(x509.validTo),
  serialNumber: x509.serialNumber,
  fingerprint256: x509.fingerprint256,
  ca: x509.ca,
  raw: new Uint8Array(x509.raw)
})

/** What a handshake settled; the certificate is converted when first asked for. */
class NodeSession implements Tls.Session {
  readonly protocol: string
  readonly cipher: string
  readonly alpnProtocol: string | undefined
  readonly servername: string | undefined
  readonly authorized: boolean
  readonly authorizationError: string | undefined
  readonly resumed: boolean
  private readonly x509: crypto.X509Certificate | undefined
  private certificate: Tls.Certificate | undefined = undefined

  constructor(socket: tls.TLSSocket) {
    this.protocol = socket.getProtocol() ?? "unknown"
    this.cipher = socket.getCipher()?.standardName ?? "unknown"
    this.alpnProtocol = typeof socket.alpnProtocol === "string" ? socket.alpnProtocol : undefined
    const servername = (socket as { servername?: unknown }).servername
    this.servername = typeof servername === "string" && servername !== "" ? servername : undefined
    this.authorized = socket.authorized
    const error = socket.authorizationError as unknown
    this.authorizationError = error === null || error === undefined
      ? undefined
      : typeof error === "string"
      ? error
      : String((error as { code?: unknown }).code ?? error)
    this.resumed = socket.isSessionReused()
    this.x509 = socket.getPeerX509Certificate()
  }

  get peerCertificate(): Tls.Certificate | undefined {
    if (this.certificate === undefined && this.x509 !== undefined) this.certificate = certificateOf(this.x509)
    return this.certificate
  }
}

// ---------------------------------------------------------------------------
// options
// ---------------------------------------------------------------------------

const pemBlock = (label: string, der: Uint8Array): string => {
  const base64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString("base64")
  return `-----BEGIN ${label}-----\n${base64.match(/.{1,64}/g)?.join("\n") ?? ""}\n-----END ${label}-----\n`
}

/** PEM bytes start with `-----BEGIN`; anything else is DER. */
const isPemBytes = (bytes: Uint8Array): boolean => bytes[0] === 0x2d

const certificatePem = (p: Tls.Pem): string | Buffer =>
  typeof p === "string"
    ? p
    : isPemBytes(p)
    ? Buffer.from(p.buffer, p.byteOffset, p.byteLength)
    : pemBlock("CERTIFICATE", p)

const keyPem = (p: Tls.Pem, passphrase: string | undefined): string | Buffer => {
  if (typeof p === "string") return p
  const bytes = Buffer.from(p.buffer, p.byteOffset, p.byteLength)
  if (isPemBytes(p)) return bytes
  for (const type of ["pkcs8", "sec1", "pkcs1"] as const) {
    try {
      const key = nodeCrypto().createPrivateKey({ key: bytes, format: "der", type, passphrase })
      return key.export({ format: "pem", type: "pkcs8" }) as string
    } catch {
      // another encoding
    }
  }
  return bytes
}

const list = <A>(p: A | ReadonlyArray<A>, f: (a: A) => string | Buffer): Array<string | Buffer> =>
  (Array.isArray(p) ? (p as ReadonlyArray<A>) : [p as A]).map(f)

interface ContextInput {
  readonly ca?: Tls.Pem | ReadonlyArray<Tls.Pem> | undefined
  readonly cert?: Tls.Pem | ReadonlyArray<Tls.Pem> | undefined
  readonly key?: Tls.Pem | ReadonlyArray<Tls.Pem> | undefined
  readonly passphrase?: string | undefined
  readonly minVersion?: Tls.Version | undefined
  readonly maxVersion?: Tls.Version | undefined
  readonly ciphers?: string | undefined
}

/** A secure context from checked settings, or why Node refuses them. */
const secureContext = (input: ContextInput): tls.SecureContext | Tls.Refused => {
  const options: tls.SecureContextOptions = {}
  if (input.ca !== undefined) options.ca = list(input.ca, certificatePem)
  if (input.cert !== undefined) options.cert = list(input.cert, certificatePem)
  if (input.key !== undefined) options.key = list(input.key, (k) => keyPem(k, input.passphrase))
  if (input.passphrase !== undefined) options.passphrase = input.passphrase
  if (input.minVersion !== undefined) options.minVersion = input.minVersion
  if (input.maxVersion !== undefined) options.maxVersion = input.maxVersion
  if (input.ciphers !== undefined) options.ciphers = input.ciphers
  try {
    return nodeTls().createSecureContext(options)
  } catch (error) {
    const e = error as { message?: unknown; code?: unknown }
    const code = typeof e.code === "string" ? ` (${e.code})` : ""
    return { _tag: "Refused", detail: `${String(e.message ?? error)}${code}` }
  }
}

const isRefused = (u: tls.SecureContext | Tls.Refused): u is Tls.Refused => "_tag" in u && u._tag === "Refused"

// ---------------------------------------------------------------------------
// the handle
// ---------------------------------------------------------------------------

/** An `Error` shaped as Node's errno errors, from a driver error (the TLS layer reports it back as it is). */
const errnoError = (error: DriverError): Error =>
  error.cause instanceof Error
    ? error.cause
    : Object.assign(new Error(`${error.syscall} ${error.code}`), {
      code: error.code,
      errno: error.errno,
      syscall: error.syscall
    })

/**
 * Any driver handle as a `stream.Duplex`, for Node's TLS to run over: its
 * reads are the handle's (backpressured: the handle stops reading when the
 * stream's buffer is full), its writes, FIN and release are the handle's.
 * It is the handle's events receiver from its construction on.
 */
class HandleStream extends Duplex implements HandleEvents {
  /** `destroy` aborts the handle (RST) instead of closing it. */
  resetting = false
  private pulling = false
  private readonly inner: Handle

  constructor(inner: Handle, unread: ReadonlyArray<Uint8Array>) {
    super({ allowHalfOpen: true })
    this.inner = inner
    for (const chunk of unread) this.push(chunk)
    inner.bind(this)
  }

  onData(chunk: Uint8Array, borrowed?: boolean): void {
    if (!this.push(borrowed === true ? Buffer.from(chunk) : chunk)) {
      this.pulling = false
      this.inner.readStop()
    }
  }

  onEnd(): void {
    this.push(null)
  }

  onError(error: DriverError): void {
    this.destroy(errnoError(error))
  }

  override _read(): void {
    if (this.pulling) return
    this.pulling = true
    this.inner.readStart()
  }

  override _write(chunk: Uint8Array, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.inner.write([chunk], (error) => callback(error === undefined ? null : errnoError(error)))
  }

  override _writev(
    chunks: Array<{ chunk: Uint8Array; encoding: BufferEncoding }>,
    callback: (error?: Error | null) => void
  ): void {
    this.inner.write(chunks.map((c) => c.chunk), (error) => callback(error === undefined ? null : errnoError(error)))
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.inner.shutdown((error) => callback(error === undefined ? null : errnoError(error)))
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.resetting) this.inner.reset(noop)
    else this.inner.close(noop)
    callback(error)
  }
}

/** How one side starts its `TLSSocket` over the connection, and checks the peer once it is secure. */
interface Side {
  /** The event that says the handshake succeeded. */
  readonly secureEvent: "secureConnect" | "secure"
  readonly start: (raw: net.Socket | Duplex) => tls.TLSSocket
  /** Why the peer is refused, checked once secure (the server's check of a client certificate). */
  readonly verify: ((socket: tls.TLSSocket) => DriverError | undefined) | undefined
}

/** Created: the handle underneath is untouched. */
const Idle = 0
/** Waiting for the handle underneath (writes in flight) or for the handshake. */
const Handshaking = 1
const Secure = 2
const Released = 3
type State = typeof Idle | typeof Handshaking | typeof Secure | typeof Released

const resetError = (syscall: string): DriverError => ({
  code: "ECONNRESET",
  syscall,
  cause: "the connection closed before the TLS handshake completed"
})

/**
 * One end of a TLS session over a connected driver handle (see the module
 * documentation): a `Handle` carrying plaintext.
 */
class TlsHandle implements Tls.SecureHandle {
  readonly [Tls.SecureHandleTypeId] = Tls.SecureHandleTypeId
  session: Tls.Session | undefined = undefined
  private state: State = Idle
  private events: HandleEvents = detachedEvents
  private socket: tls.TLSSocket | undefined = undefined
  /** The `net.Socket` on the libuv handle, when Node's TLS runs on it natively. */
  private parent: net.Socket | undefined = undefined
  /** The stream over the handle underneath, otherwise. */
  private stream: HandleStream | undefined = undefined
  private wantsRead = false
  /** The plaintext side as a raw handle over Node's TLS stream, once secure (see `directWrap`). */
  private plain: Raw.RawHandle | undefined = undefined
  private lendAsked = false
  /** A write is in flight on the TLS stream (see `writePlain`). */
  private writing = false
  private waitingChunks: Array<Uint8Array> = []
  private waitingCallbacks: Array<(error: DriverError | undefined) => void> = []
  private waitingBytes = 0
  private waitingShutdowns: Array<(error: DriverError | undefined) => void> | undefined = undefined
  /** Writes issued before the `TLSSocket` exists (a STARTTLS writer racing the upgrade). */
  private early: Array<readonly [ReadonlyArray<Uint8Array>, (error: DriverError | undefined) => void]> | undefined =
    undefined
  private readonly inner: Handle
  private readonly side: Side
  private unread: ReadonlyArray<Uint8Array>

  constructor(inner: Handle, side: Side, unread: ReadonlyArray<Uint8Array>) {
    this.inner = inner
    this.side = side
    this.unread = unread
  }

  bind(events: HandleEvents): void {
    this.events = events
    this.plain?.bind(events)
  }

  borrowReads(): void {
    this.lendAsked = true
    this.plain?.borrowReads()
  }

  handshake(callback: (error: DriverError | undefined) => void): void {
    if (this.state !== Idle) return
    this.state = Handshaking
    const take = (this.inner as Partial<Raw.TakeOver>)[Raw.takeOver]
    if (take === undefined) return this.start(this.overStream(), callback)
    take.call(this.inner, (socket) => {
      if (this.state !== Handshaking) {
        socket?.destroy()
        return
      }
      if (socket === undefined) return this.start(this.overStream(), callback)
      this.parent = socket
      // bytes read ahead (STARTTLS) are read first by the TLS stream, as if they had just arrived
      if (this.unread.length > 0) socket.unshift(Buffer.concat(this.unread))
      this.unread = []
      this.start(socket, callback)
    })
  }

  private overStream(): HandleStream {
    const stream = new HandleStream(this.inner, this.unread)
    this.unread = []
    this.stream = stream
    return stream
  }

  private start(raw: net.Socket | Duplex, callback: (error: DriverError | undefined) => void): void {
    let socket: tls.TLSSocket
    try {
      socket = this.side.start(raw)
    } catch (error) {
      raw.destroy()
      process.nextTick(callback, toDriverError(error, "handshake"))
      return
    }
    this.socket = socket
    socket.pause()
    let settled = false
    const fail = (error: DriverError) => {
      if (settled) return
      settled = true
      off()
      if (this.state === Handshaking) callback(error)
    }
    const onError = (error: Error) => fail(toDriverError(error, "handshake"))
    // the peer ended or closed first (our streams are half-open: an end does not close)
    const onClose = () => fail(resetError("handshake"))
    const onSecure = () => {
      if (settled) return
      const refused = this.side.verify?.(socket)
      if (refused !== undefined) {
        fail(refused)
        socket.destroy()
        return
      }
      settled = true
      off()
      if (this.state !== Handshaking) return
      this.state = Secure
      this.session = new NodeSession(socket)
      // as tls.Server and tls.connect do once secure: errors of the stream
      // underneath (a reset) are 'error' events from now on
      const release = (socket as unknown as { _releaseControl?: () => boolean })._releaseControl
      if (typeof release === "function") release.call(socket)
      else socket.on("_tlsError", this.onError)
      socket.on("error", this.onError)
      const wrap = this.directWrap(socket)
      if (wrap !== undefined) {
        // plaintext straight from Node's TLS stream, as a raw handle reads a TCP handle
        const plain = new Raw.RawHandle(wrap, undefined)
        this.plain = plain
        plain.bind(this.events)
        if (this.lendAsked) plain.borrowReads()
        if (this.wantsRead) plain.readStart()
        else plain.readStop()
      } else {
        socket.on("data", this.onData)
        socket.on("end", this.onEnd)
        if (this.wantsRead) socket.resume()
      }
      callback(undefined)
    }
    const off = () => {
      // errors after the outcome (a late reset of a failed handshake) go nowhere
      socket.on("error", noop)
      socket.off("error", onError)
      socket.off("_tlsError", onError)
      socket.off("close", onClose)
      socket.off("end", onClose)
      socket.off(this.side.secureEvent, onSecure)
    }
    socket.on("error", onError)
    socket.on("_tlsError", onError)
    socket.once("close", onClose)
    socket.once("end", onClose)
    socket.once(this.side.secureEvent, onSecure)
    const early = this.early
    this.early = undefined
    if (early !== undefined) { for (const [chunks, done] of early) this.write(chunks, done) }
  }

  /**
   * The `TLSSocket`'s native TLS stream (`TLSWrap`), when it can be driven as
   * a raw handle (the handle bindings are there: see `internal/raw.ts`): its
   * reads then skip the `TLSSocket`'s `Readable` (and read into the shared
   * buffer once lent), its writes and FIN its `Writable`. Its own `reset`
   * aborts the connection underneath; its close (Node's) releases it.
   */
  private directWrap(socket: tls.TLSSocket): Raw.StreamWrap | undefined {
    if (Raw.bindings === undefined) return undefined
    const wrap = (socket as unknown as { _handle?: Record<string, unknown> | null })._handle
    if (wrap === null || wrap === undefined) return undefined
    const needed = ["readStart", "readStop", "writeBuffer", "writev", "shutdown", "close", "useUserBuffer"]
    if (!needed.every((m) => typeof wrap[m] === "function")) return undefined
    const stream = this.stream
    const parent = this.parent
    const close = wrap.close as (callback: () => void) => void
    wrap.reset = (callback: () => void): number => {
      if (stream !== undefined) stream.resetting = true
      else if (parent !== undefined) {
        try {
          parent.resetAndDestroy()
        } catch {
          // a local socket has no RST: it closes
        }
      }
      close.call(wrap, callback)
      return 0
    }
    return wrap as unknown as Raw.StreamWrap
  }

  private readonly onData = (chunk: Uint8Array): void => this.events.onData(chunk)
  private readonly onEnd = (): void => this.events.onEnd()
  private readonly onError = (error: Error): void => this.events.onError(toDriverError(error, "read"))

  readStart(): void {
    this.wantsRead = true
    if (this.plain !== undefined) this.plain.readStart()
    else if (this.state === Secure) this.socket?.resume()
  }

  readStop(): void {
    this.wantsRead = false
    if (this.plain !== undefined) this.plain.readStop()
    else if (this.state === Secure) this.socket?.pause()
  }

  write(chunks: ReadonlyArray<Uint8Array>, callback: (error: DriverError | undefined) => void): boolean {
    if (this.plain !== undefined) return this.writePlain(chunks, callback)
    const s = this.socket
    if (this.state === Released) {
      callback({ code: "EPIPE", syscall: "write" })
      return false
    }
    if (s === undefined) {
      ;(this.early ??= []).push([chunks, callback])
      return false
    }
    const idle = s.writableLength === 0
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
    if (!reported && s.errored !== null) {
      done(s.errored)
      return false
    }
    return idle && !reported && s.writableLength === 0
  }

  /**
   * Node's TLS stream takes one write at a time (as a `TLSSocket`'s
   * `Writable` gives it): writes issued meanwhile wait, and go as one
   * vectored write when it completes; a FIN waits for them.
   */
  private writePlain(chunks: ReadonlyArray<Uint8Array>, callback: (error: DriverError | undefined) => void): boolean {
    const plain = this.plain!
    if (!this.writing) {
      this.writing = true
      return plain.write(chunks, (error) => {
        callback(error)
        this.flushPlain()
      })
    }
    for (let i = 0; i < chunks.length; i++) {
      this.waitingChunks.push(chunks[i]!)
      this.waitingBytes += chunks[i]!.length
    }
    this.waitingCallbacks.push(callback)
    return false
  }

  private flushPlain(): void {
    const plain = this.plain
    if (plain === undefined || this.waitingChunks.length === 0) {
      this.writing = false
      const shutdowns = this.waitingShutdowns
      this.waitingShutdowns = undefined
      if (shutdowns !== undefined && plain !== undefined) { for (const s of shutdowns) plain.shutdown(s) }
      return
    }
    const chunks = this.waitingChunks
    const callbacks = this.waitingCallbacks
    this.waitingChunks = []
    this.waitingCallbacks = []
    this.waitingBytes = 0
    plain.write(chunks, (error) => {
      for (const f of callbacks) f(error)
      this.flushPlain()
    })
  }

  get writeQueueSize(): number {
    if (this.plain !== undefined) return this.plain.writeQueueSize + this.waitingBytes
    return this.socket?.writableLength ?? this.inner.writeQueueSize
  }

  shutdown(callback: (error: DriverError | undefined) => void): void {
    if (this.plain !== undefined) {
      if (this.writing) (this.waitingShutdowns ??= []).push(callback)
      else this.plain.shutdown(callback)
      return
    }
    const s = this.socket
    if (s === undefined) {
      if (this.state === Released) callback(undefined)
      else this.inner.shutdown(callback)
      return
    }
    if (s.writableFinished || s.destroyed) {
      callback(undefined)
      return
    }
    if (s.writableEnded) {
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
    // close_notify, then FIN once it is written
    s.end(() => callback(undefined))
  }

  /** Releases everything; `abort` with RST. */
  private release(abort: boolean, callback: () => void): void {
    if (this.state === Released) {
      setImmediate(callback)
      return
    }
    this.state = Released
    this.events = detachedEvents
    if (this.plain !== undefined) {
      // writes waiting for the one in flight are cancelled, as a closing handle's
      const callbacks = this.waitingCallbacks
      this.waitingChunks = []
      this.waitingCallbacks = []
      this.waitingBytes = 0
      for (const f of callbacks) f({ code: "ECANCELED", syscall: "write" })
      if (abort) this.plain.reset(callback)
      else this.plain.close(callback)
      return
    }
    const s = this.socket
    const early = this.early
    this.early = undefined
    if (early !== undefined) { for (const [, done] of early) done({ code: "EPIPE", syscall: "write" }) }
    if (s === undefined) {
      // the handle underneath is still the driver's (or is being taken over, which then gives up)
      if (this.stream !== undefined) {
        this.stream.resetting = abort
        this.stream.destroy()
        setImmediate(callback)
      } else if (abort) this.inner.reset(callback)
      else this.inner.close(callback)
      return
    }
    if (s.closed) setImmediate(callback)
    else s.once("close", () => callback())
    if (abort) {
      if (this.stream !== undefined) this.stream.resetting = true
      else if (this.parent !== undefined) {
        try {
          this.parent.resetAndDestroy()
        } catch {
          // a local socket has no RST: it closes
        }
      }
    }
    s.destroy()
    this.parent?.destroy()
  }

  close(callback: () => void): void {
    this.release(false, callback)
  }

  reset(callback: () => void): void {
    this.release(true, callback)
  }

  localEndpoint(): Endpoint | undefined {
    return this.inner.localEndpoint()
  }

  remoteEndpoint(): Endpoint | undefined {
    return this.inner.remoteEndpoint()
  }

  setNoDelay(enable: boolean): void {
    this.inner.setNoDelay(enable)
  }

  setKeepAlive(enable: boolean, initialDelayMs: number): void {
    this.inner.setKeepAlive(enable, initialDelayMs)
  }

  ref(): void {
    this.inner.ref()
  }

  unref(): void {
    this.inner.unref()
  }
}

// ---------------------------------------------------------------------------
// the two sides
// ---------------------------------------------------------------------------

/** The inputs of a secure context, as compared for reuse: arrays by their items. */
type ContextKey = ReadonlyArray<unknown>

const contextKey = (input: ContextInput): ContextKey => {
  const flat = (p: unknown) => (Array.isArray(p) ? [p.length, ...p] : [p])
  return [
    ...flat(input.ca),
    ...flat(input.cert),
    ...flat(input.key),
    input.passphrase,
    input.minVersion,
    input.maxVersion,
    input.ciphers
  ]
}

const sameKey = (a: ContextKey, b: ContextKey): boolean => {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/**
 * The client contexts made lately, most recent first. A client connects
 * with the same authorities and certificate again and again; building a
 * secure context parses them every time (about a third of a TLS client's
 * CPU per connection on loopback, which `tls.connect` spends on every call).
 * A context is reused while its inputs are the same values (the same strings,
 * byte arrays and array items). Client contexts keep no sessions: reuse
 * resumes nothing by itself.
 */
const clientContexts: Array<readonly [ContextKey, tls.SecureContext]> = []
const CLIENT_CONTEXTS = 8

const clientSecureContext = (input: ContextInput): tls.SecureContext | Tls.Refused => {
  const key = contextKey(input)
  for (let i = 0; i < clientContexts.length; i++) {
    const [k, context] = clientContexts[i]!
    if (!sameKey(k, key)) continue
    if (i > 0) {
      clientContexts.splice(i, 1)
      clientContexts.unshift([k, context])
    }
    return context
  }
  const context = secureContext(input)
  if (isRefused(context)) return context
  clientContexts.unshift([key, context])
  if (clientContexts.length > CLIENT_CONTEXTS) clientContexts.pop()
  return context
}

const client = (settings: Tls.ClientSettings): Tls.ClientContext | Tls.Refused => {
  const context = clientSecureContext(settings)
  if (isRefused(context)) return context
  const custom = settings.checkServerIdentity
  const checkServerIdentity = custom === undefined
    ? nodeTls().checkServerIdentity
    : (hostname: string, cert: tls.PeerCertificate): Error | undefined => {
      let reason: string | undefined
      try {
        reason = custom(hostname, certificateOf(new (nodeCrypto().X509Certificate)(cert.raw)))
      } catch (error) {
        reason = error instanceof Error ? error.message : String(error)
      }
      if (reason === undefined) return undefined
      return Object.assign(new Error(reason), { code: "ERR_TLS_CERT_ALTNAME_INVALID", reason, host: hostname })
    }
  const alpn = settings.alpnProtocols === undefined ? undefined : [...settings.alpnProtocols]
  const rejectUnauthorized = settings.rejectUnauthorized !== false
  return {
    _tag: "ClientContext",
    wrap: (inner, peer, unread) =>
      new TlsHandle(inner, {
        secureEvent: "secureConnect",
        start: (raw) => {
          const options: tls.ConnectionOptions = {
            socket: raw,
            secureContext: context,
            host: peer.identity,
            rejectUnauthorized,
            checkServerIdentity
          }
          if (peer.servername !== undefined) options.servername = peer.servername
          if (alpn !== undefined) options.ALPNProtocols = alpn
          return nodeTls().connect(options)
        },
        verify: undefined
      }, unread)
  }
}

/** A server name pattern (`"*.example.com"`) as Node's `addContext` reads it. */
const namePattern = (name: string): RegExp =>
  new RegExp(`^${name.replace(/([.^$+?\-\\[\]{}])/g, "\\$1").replaceAll("*", "[^.]*")}$`, "i")

const server = (settings: Tls.ServerSettings): Tls.ServerContext | Tls.Refused => {
  const context = secureContext(settings)
  if (isRefused(context)) return context
  const named: Array<readonly [RegExp, tls.SecureContext]> = []
  for (const [name, credentials] of Object.entries(settings.sni ?? {})) {
    const c = secureContext({ ...credentials, minVersion: settings.minVersion, maxVersion: settings.maxVersion })
    if (isRefused(c)) return { _tag: "Refused", detail: `sni[${JSON.stringify(name)}]: ${c.detail}` }
    named.push([namePattern(name), c])
  }
  const requestCert = settings.requestCert === true
  const rejectUnauthorized = settings.rejectUnauthorized !== false
  const alpn = settings.alpnProtocols === undefined ? undefined : [...settings.alpnProtocols]
  const SNICallback = named.length === 0
    ? undefined
    : (servername: string, callback: (error: Error | null, context?: tls.SecureContext) => void) => {
      for (const [pattern, c] of named) {
        if (pattern.test(servername)) return callback(null, c)
      }
      callback(null, undefined)
    }
  // as tls.Server checks a client's certificate once the handshake is done
  const verify = !requestCert ? undefined : (socket: tls.TLSSocket): DriverError | undefined => {
    const ssl = (socket as unknown as { _handle?: { verifyError?: () => Error | null } | null })._handle
    let code: string | undefined
    let cause: unknown
    if (typeof ssl?.verifyError !== "function") {
      // another runtime's TLS (Bun's) judges the client itself: take its verdict, and refuse without one
      const error = socket.authorizationError as unknown
      if (error !== null && error !== undefined) {
        code = typeof error === "string" ? error : String((error as { code?: unknown }).code ?? "CERT_REJECTED")
        cause = error
      } else if (socket.authorized !== true) {
        code = "CERT_REJECTED"
        cause = "the client's certificate was not verified"
      }
    } else {
      const verifyError = ssl.verifyError()
      if (verifyError !== null) {
        code = String((verifyError as { code?: unknown }).code ?? "CERT_REJECTED")
        cause = verifyError
      }
    }
    if (code === undefined && socket.getPeerX509Certificate() === undefined) {
      // TLS 1.3 resumption without a certificate: nothing proves who the client is
      code = "UNABLE_TO_GET_ISSUER_CERT"
      cause = "the client sent no certificate"
    }
    if (code === undefined) {
      socket.authorized = true
      return undefined
    }
    socket.authorizationError = code as unknown as Error
    return rejectUnauthorized ? { code, syscall: "handshake", cause } : undefined
  }
  return {
    _tag: "ServerContext",
    wrap: (inner, unread) =>
      new TlsHandle(inner, {
        secureEvent: "secure",
        start: (raw) => {
          const options: tls.TLSSocketOptions = {
            isServer: true,
            secureContext: context,
            requestCert,
            rejectUnauthorized
          }
          if (alpn !== undefined) options.ALPNProtocols = alpn
          if (SNICallback !== undefined) options.SNICallback = SNICallback
          return new (nodeTls().TLSSocket)(raw as net.Socket, options)
        },
        verify
      }, unread)
  }
}

/**
 * The TLS provider over `node:tls`.
 *
 * @category providers
 * @since 0.1.0
 */
export const provider: Tls.TlsShape = { name: "node:tls", client, server }

/**
 * Provides the `Tls` capability over `node:tls`, for every `Network` in
 * context (real sockets or the memory network).
 *
 * @example
 * ```ts
 * import { Network } from "@sluice/core"
 * import { NodeNetwork, NodeTls } from "@sluice/node-adapter"
 * import { Effect, Layer } from "effect"
 *
 * const program = Effect.scoped(Network.connect({ host: "example.com", port: 443, tls: {} }))
 * Effect.runPromise(Effect.provide(program, Layer.mergeAll(NodeNetwork.layer, NodeTls.layer)))
 * ```
 *
 * @category layers
 * @since 0.1.0
 */
export const layer: Layer.Layer<Tls.Tls> = Layer.succeed(Tls.Tls, provider)
