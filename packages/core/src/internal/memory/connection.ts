/**
 * A memory connection: two ends (the driver handles), joined by two pipes,
 * with FIN, RST, half-close and the kernel's error reporting.
 *
 * @internal
 */
import { format } from "../../Address.ts"
import type { DriverError, Endpoint, Handle, HandleEvents } from "../../Driver.ts"
import { error } from "./errors.ts"
import type { Link } from "./faults.ts"
import type { VirtualNetwork } from "./network.ts"
import { Pipe, RST } from "./pipe.ts"

/** One end of a connection: the driver handle. */
export class End implements Handle {
  readonly conn: Conn
  readonly role: "client" | "server"
  readonly local: Endpoint
  readonly remote: Endpoint
  out!: Pipe
  in!: Pipe
  events: HandleEvents | undefined = undefined
  reading = false
  /** `close` or `reset` was called. */
  released = false
  /** The kernel socket is dead (RST sent or received): nothing more moves. */
  aborted = false
  /** The error a write (or a read) reports next: set by an RST. */
  pendingError: string | undefined = undefined
  endDelivered = false
  errorDelivered = false
  /** The kernel gave up retransmitting (partition, dropped connection). */
  timedOut = false
  noDelay = false
  keepAlive = false

  constructor(conn: Conn, role: "client" | "server", local: Endpoint, remote: Endpoint) {
    this.conn = conn
    this.role = role
    this.local = local
    this.remote = remote
  }

  private get net(): VirtualNetwork {
    return this.conn.net
  }

  bind(events: HandleEvents): void {
    this.events = events
  }

  readStart(): void {
    if (this.released || this.reading) return
    this.reading = true
    this.in.schedule()
  }

  readStop(): void {
    this.reading = false
  }

  write(chunks: ReadonlyArray<Uint8Array>, callback: (error: DriverError | undefined) => void): boolean {
    if (this.pendingError !== undefined) {
      // the kernel refuses the write at once (after an RST): reported at once, as node's driver does
      const code = this.pendingError
      this.pendingError = "EPIPE"
      callback(error(code, "write"))
      return false
    }
    if (this.released || this.out.finRequested) {
      this.net.queue.post({ run: () => callback(error("EPIPE", "write")) })
      return false
    }
    let size = 0
    for (let i = 0; i < chunks.length; i++) size += chunks[i]!.length
    if (this.out.takeAtOnce(chunks, size, callback)) return true
    this.out.writes.push({ chunks, index: 0, offset: 0, remaining: size, callback })
    this.out.queued += size
    this.out.schedule()
    return false
  }

  get writeQueueSize(): number {
    return this.out.queued
  }

  shutdown(callback: (error: DriverError | undefined) => void): void {
    const out = this.out
    if (this.released || this.aborted || out.finSent) {
      this.net.queue.post({ run: () => callback(undefined) })
      return
    }
    out.finRequested = true
    out.finCallbacks.push(callback)
    out.schedule()
  }

  close(callback: () => void): void {
    if (this.released) {
      this.net.queue.post({ run: callback })
      return
    }
    this.release()
    // the handle's close completes before the peer reads what the close sends (as in libuv's close phase)
    this.net.queue.post({ run: callback })
    if (this.in.recvBytes > 0 && !this.aborted) {
      // closing with unread data aborts the connection, as a kernel does
      this.net.record(`${this.conn.id} ${this.role} closed with unread data, rst`)
      this.abort()
    } else {
      this.out.failWrites("ECANCELED")
      if (!this.aborted && !this.out.finSent) {
        this.out.finRequested = true
        this.out.schedule()
      }
    }
    this.net.record(`${this.conn.id} ${this.role} close`)
  }

  reset(callback: () => void): void {
    if (this.released) {
      this.net.queue.post({ run: callback })
      return
    }
    this.release()
    this.net.queue.post({ run: callback })
    this.net.record(`${this.conn.id} ${this.role} reset`)
    if (!this.aborted) this.abort()
  }

  /**
   * The owning process crashed: the end is gone without FIN or RST. Its
   * unsent bytes are dropped and its pending writes fail (nobody waits on
   * them); a segment that reaches it later is answered with RST (see `arrive`).
   */
  vanish(): void {
    if (this.released) return
    this.net.record(`${this.conn.id} ${this.role} vanished`)
    this.release()
    this.out.failWrites("ECANCELED")
    this.out.dropUnsent()
  }

  /** The stall watch's remover while a graceful close waits (see `closing`). */
  private unwatchClose: (() => void) | undefined = undefined

  /**
   * The engine closes gracefully, its FIN behind writes the peer has not
   * made room for, bounded by `graceMs` of the network's time: the stall
   * watch aborts it (RST, as the bound would) when that time never comes.
   */
  closing(graceMs: number): void {
    const stall = this.net.stall
    const out = this.out
    if (stall === undefined || !(graceMs < Infinity) || this.released || this.aborted) return
    if (out.finSent || out.writes.length === 0 || this.unwatchClose !== undefined) return
    this.unwatchClose = stall.watch({
      describe: () =>
        `the close of ${format(this.local)} -> ${format(this.remote)} waits for its peer to read `
        + `${out.queued} more bytes before its FIN, for at most ${graceMs} ms of virtual time (its close timeout)`,
      stalled: (message) => {
        this.unwatchClose = undefined
        if (this.released || this.aborted || out.finSent) return
        this.net.warn(
          `${message}: aborted with RST, as the close timeout would. Read the bytes, move the clock, `
            + `or give the socket a shorter closeTimeout.`
        )
        this.net.record(`${this.conn.id} ${this.role} close stalled, rst`)
        this.abort()
      }
    })
  }

  private release(): void {
    this.released = true
    this.reading = false
    this.events = undefined
    this.unwatchClose?.()
    this.unwatchClose = undefined
    this.conn.onRelease()
  }

  /** Sends RST to the peer; this socket is dead. */
  abort(): void {
    this.unwatchClose?.()
    this.unwatchClose = undefined
    this.aborted = true
    this.out.failWrites("ECANCELED")
    this.out.dropUnsent()
    this.out.pushSegment(RST, undefined, this.net.timers.now(), 0)
    this.out.schedule()
  }

  /** Data reached this closed socket: answer with RST. */
  abortFromClosed(): void {
    this.aborted = true
    this.out.pushSegment(RST, undefined, this.net.timers.now(), 0)
    this.out.schedule()
  }

  /** An RST arrived. */
  onReset(): void {
    if (this.aborted || this.released) return
    this.aborted = true
    // in CLOSE_WAIT (FIN received) the kernel reports EPIPE, otherwise ECONNRESET
    const code = this.in.finArrived ? "EPIPE" : "ECONNRESET"
    if (!this.reading && this.out.writes.length > 0) {
      // a blocked write consumes the error
      this.out.failWrites(code)
      this.pendingError = "EPIPE"
    } else {
      this.out.failWrites("EPIPE")
      this.pendingError = code
    }
    this.out.dropUnsent()
    // the peer's RST: bytes still on their way to it are discarded there (an RST in flight stays).
    // The network's reset (a fault) follows the bytes sent before it on the wire: those arrive.
    if (!this.conn.killed) {
      const kept = this.out.flight.filter((s) => s.kind === RST)
      this.out.flight.length = 0
      this.out.flight.push(...kept)
      this.out.flightBytes = 0
    }
    this.in.schedule()
  }

  /** Retransmissions failed for too long: the kernel drops the connection with ETIMEDOUT. */
  onTimedOut(): void {
    if (this.aborted || this.released) return
    this.aborted = true
    this.timedOut = true
    if (!this.reading && this.out.writes.length > 0) {
      this.out.failWrites("ETIMEDOUT")
      this.pendingError = "EPIPE"
    } else {
      this.out.failWrites("EPIPE")
      this.pendingError = "ETIMEDOUT"
    }
    this.out.dropUnsent()
    this.out.flight.length = 0
    this.out.flightBytes = 0
    this.in.schedule()
  }

  localEndpoint(): Endpoint | undefined {
    return this.local
  }

  remoteEndpoint(): Endpoint | undefined {
    return this.remote
  }

  setNoDelay(enable: boolean): void {
    this.noDelay = enable
  }

  setKeepAlive(enable: boolean, _initialDelayMs: number): void {
    this.keepAlive = enable
  }

  ref(): void {}

  unref(): void {}
}

/** A connection: two ends, two pipes. */
export class Conn {
  readonly net: VirtualNetwork
  readonly id: string
  readonly client: End
  readonly server: End
  readonly up: Pipe
  readonly down: Pipe
  /** Addresses partitions match on (`undefined` for IPC). */
  readonly clientHost: string | undefined
  readonly serverHost: string | undefined
  dropped = false
  /** Reset by a fault: no more bytes are admitted. */
  killed = false

  constructor(
    net: VirtualNetwork,
    id: string,
    endpoints: {
      readonly clientLocal: Endpoint
      readonly clientRemote: Endpoint
      readonly serverLocal: Endpoint
      readonly serverRemote: Endpoint
    },
    links: { readonly up: Link; readonly down: Link },
    hosts: { readonly client: string | undefined; readonly server: string | undefined }
  ) {
    this.net = net
    this.id = id
    this.clientHost = hosts.client
    this.serverHost = hosts.server
    this.client = new End(this, "client", endpoints.clientLocal, endpoints.clientRemote)
    this.server = new End(this, "server", endpoints.serverLocal, endpoints.serverRemote)
    this.up = new Pipe(net, this, "toServer", links.up)
    this.down = new Pipe(net, this, "toClient", links.down)
    this.up.from = this.client
    this.up.to = this.server
    this.down.from = this.server
    this.down.to = this.client
    this.client.out = this.up
    this.client.in = this.down
    this.server.out = this.down
    this.server.in = this.up
  }

  blocked(): boolean {
    return this.dropped || this.net.partitioned(this.clientHost, this.serverHost)
  }

  /**
   * The network resets the connection (a fault): nothing more is admitted,
   * and each end receives RST after the bytes already in flight to it.
   */
  injectReset(): void {
    if (this.killed) return
    this.killed = true
    const now = this.net.timers.now()
    for (const pipe of [this.up, this.down]) {
      pipe.dropUnsent()
      if (pipe.to.aborted || pipe.to.released) continue
      pipe.pushSegment(RST, undefined, now, 0)
      pipe.schedule()
    }
  }

  onRelease(): void {
    if (!this.client.released || !this.server.released) return
    this.net.connections.delete(this)
    const local = this.client.local
    if (local._tag === "Tcp" && !this.net.tcpListeners.some((l) => l.port === local.port)) {
      this.net.usedPorts.delete(local.port)
    }
  }

  wake(): void {
    this.up.schedule()
    this.down.schedule()
  }
}
