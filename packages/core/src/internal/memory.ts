/**
 * The machinery of the in-memory network: a run queue that mimics the event
 * loop, a seeded random source, and the virtual kernel (listeners, connection
 * pairs with bounded per-direction buffers, FIN and RST, faults). The public
 * face is `MemoryNetwork.ts`.
 *
 * Model: every address is local to one virtual machine, as on a host that owns
 * every IP. A connection is a pair of ends joined by two pipes, one per
 * direction. A pipe holds the sender's write queue (bytes the "kernel" has not
 * accepted yet), the segments in flight (latency, bandwidth) and the
 * receiver's buffer. The in-flight and received bytes together are bounded by
 * the buffer size, so a reader that stops reading makes the writer's queue
 * fill and its write completions wait, as with real sockets.
 *
 * @internal
 */
import { format, isIP } from "../Address.ts"
import type {
  ConnectTarget,
  DriverError,
  Endpoint,
  Family,
  Handle,
  HandleEvents,
  ListenerEvents,
  ListenerHandle,
  ListenTarget,
  LookupAddress,
  LookupOptions,
  PendingConnect,
  Timers
} from "../Driver.ts"
import { errnoTable } from "../Errno.ts"
import type { Options } from "../MemoryNetwork.ts"

// ---------------------------------------------------------------------------
// globals without Node types
// ---------------------------------------------------------------------------

interface Globals {
  readonly setTimeout: (f: () => void, ms: number) => unknown
  readonly clearTimeout: (t: unknown) => void
  readonly setImmediate?: ((f: () => void) => unknown) | undefined
}

const g = globalThis as unknown as Globals

const macrotask = (f: () => void): void => {
  if (typeof g.setImmediate === "function") g.setImmediate(f)
  else g.setTimeout(f, 0)
}

/** Real timers (`setTimeout`), not keeping a Node process alive where `unref` exists. */
export const realTimers: Timers = {
  now: () => Date.now(),
  schedule: (ms, f) => {
    const t = g.setTimeout(f, Math.max(0, ms)) as { unref?: () => void }
    if (typeof t === "object" && t !== null && typeof t.unref === "function") t.unref()
    return () => g.clearTimeout(t)
  }
}

// ---------------------------------------------------------------------------
// run queue and random source
// ---------------------------------------------------------------------------

/** A unit of deferred work. */
export interface Task {
  run(): void
}

/**
 * Deferred work, run in order, each task in its own turn of the host's event
 * loop (`setImmediate` where it exists): as with real sockets, every I/O event
 * is a separate callback, and the microtasks and `nextTick`s one of them
 * queues run before the next event is delivered.
 */
export class RunQueue {
  private tasks: Array<Task | undefined> = []
  private head = 0

  post(task: Task): void {
    this.tasks.push(task)
    macrotask(this.runOne)
  }

  private readonly runOne = (): void => {
    const task = this.tasks[this.head]
    if (task === undefined) return
    this.tasks[this.head++] = undefined
    if (this.head === this.tasks.length) {
      this.tasks = []
      this.head = 0
    }
    try {
      task.run()
    } catch (error) {
      // a face's callback threw: report it like an uncaught exception, keep the network running
      g.setTimeout(() => {
        throw error
      }, 0)
    }
  }
}

/** A seeded random source (mulberry32): the same seed gives the same sequence. */
export class Random {
  private state: number
  constructor(seed: number) {
    this.state = seed >>> 0
  }
  /** A float in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0)
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1))
  }
}

// ---------------------------------------------------------------------------
// errors and addresses
// ---------------------------------------------------------------------------

/** A driver error shaped like the node adapter's for the same situation. */
export const error = (
  code: string,
  syscall: string,
  address?: string | undefined,
  port?: number | undefined
): DriverError => {
  const entry = errnoTable[code]
  return {
    code,
    errno: entry?.[0],
    syscall,
    address,
    // as node's errors: a port of 0 is left out
    port: port === 0 ? undefined : port,
    cause: `${syscall} ${code}${entry === undefined ? "" : ` (${entry[1]})`} on the memory network`
  }
}

const unspecified = (address: string): boolean => address === "0.0.0.0" || address === "::"

/** Strips an IPv4-mapped prefix and lower-cases: the key under which partitions and rules match. */
export const hostKey = (address: string): string => {
  const a = address.toLowerCase()
  return a.startsWith("::ffff:") && isIP(a.slice(7)) === 4 ? a.slice(7) : a
}

const familyOf = (address: string): Family => (isIP(address) === 6 ? "IPv6" : "IPv4")

// ---------------------------------------------------------------------------
// options and faults
// ---------------------------------------------------------------------------

/** A value for both directions, or one per direction. */
export type PerDirection<A> = A | { readonly toServer?: A | undefined; readonly toClient?: A | undefined }

/** A fault rule, applied to connections whose server side matches. */
export interface FaultRule {
  readonly match?: {
    readonly host?: string | undefined
    readonly port?: number | undefined
    readonly path?: string | undefined
  } | undefined
  readonly slice?: PerDirection<number> | undefined
  readonly latency?: PerDirection<number> | undefined
  readonly bandwidth?: PerDirection<number> | undefined
  readonly refuse?: boolean | undefined
  readonly resetAfter?: PerDirection<number> | undefined
  readonly slowClose?: number | undefined
}

interface Link {
  latency: number
  bandwidth: number
  slice: number
  resetAfter: number
  slowClose: number
}

const pick = <A>(value: PerDirection<A> | undefined, dir: Direction): A | undefined => {
  if (value === undefined) return undefined
  if (typeof value === "object" && value !== null && ("toServer" in value || "toClient" in value)) {
    return (value as { readonly toServer?: A; readonly toClient?: A })[dir]
  }
  return value as A
}

/** Options of a network: the public options, and the timers it runs on. */
export interface NetworkOptions extends Options {
  readonly timers?: Timers | undefined
}

type Direction = "toServer" | "toClient"

const READ_CHUNK = 65536
/** Linux loopback MSS (MTU 65536 less IP and TCP headers and the timestamp option). */
const LOOPBACK_MSS = { IPv4: 65483, IPv6: 65464 } as const
/** Linux's minimum receive MSS estimate (TCP_MSS_DEFAULT). */
const INITIAL_RCV_MSS = 536
/** Linux TCP_MAX_QUICKACKS: segments acknowledged at once at the start of a connection. */
const QUICK_ACKS = 16
/** Linux TCP_DELACK_MIN / TCP_ATO_MIN (ms): the delayed ACK timeout, and the pingpong window. */
const DELAYED_ACK = 40
/** Linux TCP_RTO_MIN (ms): a receive after a longer silence refills the quick ACKs. */
const RTO_MIN = 200

/**
 * How many unacknowledged bytes a read must free for the receiver to
 * announce the larger window at once (Linux tcp_cleanup_rbuf), by how many
 * bytes the connection had received before: the window starts small and grows
 * with the first kilobytes. Measured on Linux 6.18 loopback with the default
 * `tcp_rmem` (the same for either end); linear in between.
 */
const WINDOW_UPDATE: ReadonlyArray<readonly [received: number, bytes: number]> = [
  [850, 9_840],
  [1_000, 16_440],
  [1_200, 26_090],
  [1_400, 33_830],
  [1_500, 37_390],
  [1_800, 43_990],
  [2_000, 45_500],
  [3_000, 50_200],
  [5_000, 53_760],
  [10_000, 55_800],
  [20_000, 53_250],
  [65_000, 47_670]
]

const windowUpdateAfter = (received: number): number => interpolate(WINDOW_UPDATE, received)

/**
 * The largest window a receiver announces after a data segment of a given
 * size has arrived (Linux tcp_grow_window: its receive-buffer estimate grows by
 * the segment's share of the memory it took, so mid-sized segments grow it
 * most). Measured on Linux 6.18 loopback with the default `tcp_rmem`, one
 * segment on a fresh connection; linear in between, in steps of 1 KiB. Only
 * the largest ever announced matters here: Linux bounds a sender's segment size
 * by half of it (tcp_bound_to_half_wnd), so a young connection's sender sends
 * 32 KiB segments, not 64 KiB ones.
 */
const WINDOW_AFTER_SEGMENT: ReadonlyArray<readonly [size: number, window: number]> = [
  [850, 65_536],
  [1_000, 70_656],
  [1_500, 82_944],
  [2_000, 91_136],
  [2_500, 96_256],
  [3_000, 100_352],
  [4_000, 104_448],
  [5_000, 107_520],
  [7_000, 110_592],
  [9_000, 111_616],
  [10_000, 111_616],
  [14_000, 109_568],
  [20_000, 106_496],
  [25_000, 102_400],
  [30_000, 98_304],
  [40_000, 95_232]
]

/** Linux's initial receive window on loopback with the default `tcp_rmem`, as announced scaled (and unscaled, in a SYN-ACK). */
const INITIAL_WINDOW = { scaled: 65_536, synAck: 65_483 } as const

const interpolate = (table: ReadonlyArray<readonly [number, number]>, x: number): number => {
  let [x0, y0] = table[0]!
  if (x <= x0) return y0
  for (const [x1, y1] of table) {
    if (x <= x1) return y0 + ((y1 - y0) * (x - x0)) / (x1 - x0)
    x0 = x1
    y0 = y1
  }
  return y0
}

const windowAfterSegment = (size: number): number => Math.floor(interpolate(WINDOW_AFTER_SEGMENT, size) / 1024) * 1024

const EPSILON = 1e-6
const SYN_RETRIES = [1000, 2000, 4000, 8000, 16000, 32000, 64000]

// ---------------------------------------------------------------------------
// pipes and ends
// ---------------------------------------------------------------------------

interface WriteRequest {
  readonly chunks: ReadonlyArray<Uint8Array>
  index: number
  offset: number
  remaining: number
  readonly callback: (error: DriverError | undefined) => void
}

const DATA = 0
const FIN = 1
const RST = 2

interface Segment {
  readonly kind: 0 | 1 | 2
  readonly bytes: Uint8Array | undefined
  readonly at: number
  /** The pipe run that sent it: it arrives in a later run (a later turn of the loop). */
  readonly run: number
  /** The reverse direction's bytes this segment acknowledges (-1: none); the sender learns it on arrival. */
  readonly ack: number
}

/** One direction of a connection. */
export class Pipe implements Task {
  readonly net: VirtualNetwork
  readonly conn: Conn
  readonly dir: Direction
  from!: End
  to!: End
  readonly link: Link
  writes: Array<WriteRequest> = []
  queued = 0
  flight: Array<Segment> = []
  flightBytes = 0
  recv: Array<Uint8Array> = []
  recvBytes = 0
  finRequested = false
  finSent = false
  finCallbacks: Array<(error: DriverError | undefined) => void> = []
  finArrived = false
  rstArrived = false
  /** Bytes accepted from the sender so far. */
  sent = 0
  /**
   * Kernel send queue (bytes accepted, write completed, not yet on the wire):
   * only used where Nagle's algorithm is modelled (`nagle`).
   */
  unsent: Array<Uint8Array> = []
  unsentBytes = 0
  /**
   * Nagle's algorithm and delayed ACKs, as Linux does them on loopback: TCP
   * links without faults. The sender's MSS is bounded by half the largest
   * window the receiver has announced (`sendMss`). A sub-MSS segment is held while an earlier
   * sub-MSS segment is unacknowledged (Minshall's variant, unless the sender
   * set no-delay); the receiver acknowledges at once in quick-ACK mode (the
   * first segments) and otherwise delays the ACK (40 ms) unless it sends
   * data (the ACK rides along) or more than a full segment is unacknowledged.
   * A receiver that answers within 40 ms of receiving is interactive
   * ("pingpong") and leaves quick-ACK mode until a delayed ACK fires.
   */
  readonly nagle: boolean
  readonly mss: number
  /** Sequence (in bytes put on the wire) ending the last sub-MSS segment. */
  private smallEnd = 0
  private wire = 0
  private acked = 0
  /** The largest window the receiver has announced, as the sender knows it (it bounds the segment size). */
  private maxWindow: number
  /** The largest window the receiver has announced or will announce with its next ACK. */
  private announced: number = INITIAL_WINDOW.scaled
  private arrived = 0
  // the receiver's ACK state for this direction
  private quick = 0
  private receiving = false
  private lastReceived = 0
  private pingpong = false
  private rcvMss = INITIAL_RCV_MSS
  private pushed = 0
  private unacked = 0
  private delayedAck: (() => void) | undefined = undefined
  private txFree = 0
  private lastArrival = 0
  private scheduled = false
  private timer: (() => void) | undefined = undefined
  private timerAt = 0
  private runs = 0
  private hopping = false
  private retransmission: (() => void) | undefined = undefined

  constructor(net: VirtualNetwork, conn: Conn, dir: Direction, link: Link) {
    this.net = net
    this.conn = conn
    this.dir = dir
    this.link = link
    this.nagle = net.nagle && conn.serverHost !== undefined && link.latency <= 0 && link.bandwidth <= 0
      && link.slice <= 0
    this.mss = LOOPBACK_MSS[conn.serverHost === undefined ? "IPv4" : familyOf(conn.serverHost)]
    // the client knows the server's window from the SYN-ACK (unscaled) until the server sends a segment;
    // the server has the client's scaled window from the handshake's ACK
    this.maxWindow = dir === "toServer" ? INITIAL_WINDOW.synAck : INITIAL_WINDOW.scaled
  }

  /** The sender's segment size: the MSS, bounded by half the largest window the receiver announced. */
  private sendMss(): number {
    return Math.min(this.mss, Math.floor(this.maxWindow / 2))
  }

  schedule(): void {
    if (this.scheduled) return
    this.scheduled = true
    this.net.queue.post(this)
  }

  run(): void {
    this.scheduled = false
    this.runs++
    // writes taken at once complete first, in order, before anything queued after them
    this.completeTakenAtOnce()
    const now = this.net.timers.now()
    for (let round = 0; round < 64; round++) {
      const admitted = this.admit(now)
      this.arrive(now)
      const delivered = this.deliver()
      if (!admitted && !delivered) break
      if (round === 63) this.schedule()
    }
    this.armTimer()
    const next = this.flight[0]
    if (next !== undefined && next.run === this.runs && next.at - now <= EPSILON && !this.hopping) {
      // sent in this turn: the receiver reads it on a later turn of the loop, after what
      // completes locally now (a close, a write callback), as with real sockets
      this.hopping = true
      this.net.queue.post({
        run: () => {
          this.hopping = false
          this.schedule()
        }
      })
    }
  }

  private space(): number {
    return this.net.bufferSize - this.unsentBytes - this.flightBytes - this.recvBytes
  }

  /**
   * Takes a write whole into the send buffer now, as a kernel takes a write
   * that fits at once, when it can: nothing queued ahead of it, room for all
   * of it, and a plain link (no latency, bandwidth, slicing or injected reset
   * to model). Its bytes go on the wire now as far as Nagle's algorithm
   * lets them (they arrive when the pipe next runs; a close sends the rest
   * before its FIN, a reset drops what Nagle still holds, as a kernel's);
   * its callback reports success when the pipe next runs, before the
   * callbacks of writes queued after it. Returns whether it took the write.
   */
  takeAtOnce(
    chunks: ReadonlyArray<Uint8Array>,
    size: number,
    callback: (error: DriverError | undefined) => void
  ): boolean {
    if (
      !this.nagle || this.link.resetAfter >= 0 || this.writes.length > 0 || this.from.aborted || this.conn.killed
      || this.space() < size
    ) return false
    for (let i = 0; i < chunks.length; i++) if (chunks[i]!.length > 0) this.unsent.push(chunks[i]!.slice())
    this.unsentBytes += size
    this.sent += size
    this.transmit(this.net.timers.now(), false)
    this.takenAtOnce.push(callback)
    this.schedule()
    return true
  }

  /** Callbacks of writes taken at once, reported when the pipe runs. */
  private takenAtOnce: Array<(error: DriverError | undefined) => void> = []

  private completeTakenAtOnce(): void {
    if (this.takenAtOnce.length === 0) return
    const callbacks = this.takenAtOnce
    this.takenAtOnce = []
    for (let i = 0; i < callbacks.length; i++) callbacks[i]!(undefined)
  }

  /** Moves bytes from the write queue into the network; returns whether anything moved. */
  private admit(now: number): boolean {
    let moved = false
    while (this.writes.length > 0 && !this.from.aborted && !this.conn.killed) {
      const space = this.space()
      if (space <= 0) break
      const request = this.writes[0]!
      if (request.index >= request.chunks.length) {
        // nothing (left) to send: an empty write completes
        this.writes.shift()
        request.callback(undefined)
        continue
      }
      const chunk = request.chunks[request.index]!
      let n = Math.min(chunk.length - request.offset, space)
      let resetNow = false
      if (this.link.resetAfter >= 0 && this.sent + n >= this.link.resetAfter) {
        n = this.link.resetAfter - this.sent
        resetNow = true
      }
      if (n > 0) {
        if (this.nagle) {
          this.unsent.push(chunk.slice(request.offset, request.offset + n))
          this.unsentBytes += n
        } else this.push(chunk.slice(request.offset, request.offset + n), now)
        this.sent += n
        request.offset += n
        request.remaining -= n
        this.queued -= n
        moved = true
      }
      if (resetNow) {
        this.transmit(now, true)
        this.net.record(`${this.conn.id} ${this.dir} reset at byte ${this.sent}`)
        this.conn.injectReset()
        return true
      }
      while (request.index < request.chunks.length && request.offset >= request.chunks[request.index]!.length) {
        request.index++
        request.offset = 0
      }
      if (request.index >= request.chunks.length) {
        this.writes.shift()
        request.callback(undefined)
      }
    }
    // a FIN pushes what Nagle holds (Linux sends it with TCP_NAGLE_OFF)
    const finNow = this.writes.length === 0 && this.finRequested && !this.finSent && !this.from.aborted
      && !this.conn.killed
    if (this.transmit(now, finNow)) moved = true
    if (finNow) {
      this.finSent = true
      this.pushSegment(FIN, undefined, now, this.link.slowClose)
      this.net.record(`${this.conn.id} ${this.dir} fin`)
      const callbacks = this.finCallbacks.splice(0)
      for (const callback of callbacks) callback(undefined)
      moved = true
    }
    return moved
  }

  private push(bytes: Uint8Array, now: number): void {
    const slice = this.link.slice
    if (slice > 0 && bytes.length > 1) {
      let offset = 0
      while (offset < bytes.length) {
        const size = Math.min(bytes.length - offset, this.net.random.int(1, slice))
        this.pushSegment(DATA, bytes.subarray(offset, offset + size), now, 0)
        offset += size
      }
    } else this.pushSegment(DATA, bytes, now, 0)
  }

  /**
   * Puts the kernel send queue on the wire as far as Nagle's algorithm lets
   * it (all of it when `force`); returns whether anything was sent.
   */
  private transmit(now: number, force: boolean): boolean {
    let moved = false
    const mss = this.sendMss()
    while (this.unsentBytes > 0) {
      const small = this.unsentBytes < mss
      if (small && !force && !this.from.noDelay && this.smallEnd > this.acked) break
      const size = Math.min(this.unsentBytes, mss)
      const first = this.unsent[0]!
      let bytes: Uint8Array
      if (first.length === size) bytes = this.unsent.shift()!
      else if (first.length > size) {
        bytes = first.subarray(0, size)
        this.unsent[0] = first.subarray(size)
      } else {
        bytes = new Uint8Array(size)
        let offset = 0
        while (offset < size) {
          const head = this.unsent[0]!
          const take = Math.min(head.length, size - offset)
          bytes.set(head.subarray(0, take), offset)
          offset += take
          if (take === head.length) this.unsent.shift()
          else this.unsent[0] = head.subarray(take)
        }
      }
      this.unsentBytes -= size
      this.wire += size
      if (size < mss) this.smallEnd = this.wire
      this.pushSegment(DATA, bytes, now, 0)
      moved = true
    }
    return moved
  }

  /** Drops the kernel send queue (the connection was reset). */
  dropUnsent(): void {
    this.unsent = []
    this.unsentBytes = 0
  }

  /** The receiver acknowledged: nothing is pending on its side any more. */
  private ackSent(): void {
    if (this.delayedAck !== undefined) {
      this.delayedAck()
      this.delayedAck = undefined
    }
    this.unacked = 0
    this.pushed = 0
  }

  /** The sender learns that `ack` bytes arrived: Nagle may send what it held. */
  ackArrived(ack: number): void {
    // every segment from the receiver also carries its window
    if (this.announced > this.maxWindow) {
      this.maxWindow = this.announced
      if (this.unsentBytes > 0) this.schedule()
    }
    if (ack <= this.acked) return
    this.acked = ack
    if (this.unsentBytes > 0) this.schedule()
  }

  /** The receiver acknowledges everything that arrived with a bare ACK (on loopback: at once). */
  private ackNow(): void {
    this.ackSent()
    this.ackArrived(this.arrived)
  }

  /**
   * The receiver sends a segment (returns the acknowledgement it carries): the
   * ACK rides along; data sent within 40 ms of receiving makes it interactive
   * (a bare FIN does not: Linux counts data).
   */
  private receiverSends(now: number, data: boolean): number {
    if (data && this.receiving && now - this.lastReceived < DELAYED_ACK) this.pingpong = true
    this.ackSent()
    return this.arrived
  }

  /** A data segment reached the receiver: acknowledge at once or later. */
  private dataArrived(size: number, now: number): void {
    this.arrived += size
    this.announced = Math.max(this.announced, windowAfterSegment(size))
    if (!this.receiving || now - this.lastReceived > RTO_MIN) this.quick = QUICK_ACKS
    this.receiving = true
    this.lastReceived = now
    if (size >= this.rcvMss) this.rcvMss = Math.min(size, this.mss)
    else this.pushed++
    this.unacked += size
    if (!this.pingpong && this.quick > 0) {
      this.quick--
      this.ackNow()
    } else if (this.unacked > this.rcvMss) this.ackNow()
    else if (this.delayedAck === undefined) {
      this.delayedAck = this.net.timers.schedule(DELAYED_ACK, () => {
        this.delayedAck = undefined
        // a delayed ACK that had to fire ends the interactive mode
        this.pingpong = false
        this.ackNow()
      })
    }
  }

  /**
   * The receiving application read (Linux tcp_cleanup_rbuf): small segments
   * are acknowledged now, except one in interactive mode, and so is a read
   * that frees enough to announce a window update.
   */
  private consumed(): void {
    if (this.unacked === 0) return
    if (
      this.pushed >= 2 || (this.pushed >= 1 && !this.pingpong)
      || this.unacked >= windowUpdateAfter(this.arrived - this.unacked)
    ) this.ackNow()
  }

  pushSegment(kind: 0 | 1 | 2, bytes: Uint8Array | undefined, now: number, extraDelay: number): void {
    const ack = this.nagle && kind !== RST ? this.from.in.receiverSends(now, kind === DATA) : -1
    const size = bytes === undefined ? 0 : bytes.length
    const start = Math.max(now, this.txFree)
    this.txFree = this.link.bandwidth > 0 ? start + (size * 1000) / this.link.bandwidth : start
    const at = Math.max(this.txFree + this.link.latency + extraDelay, this.lastArrival)
    this.lastArrival = at
    this.flight.push({ kind, bytes, at, run: this.runs, ack })
    this.flightBytes += size
  }

  /** Moves segments whose time has come into the receiver. */
  private arrive(now: number): void {
    if (this.conn.blocked()) return
    while (this.flight.length > 0) {
      const segment = this.flight[0]!
      // times are sums of fractions of a millisecond: tolerate rounding
      if (segment.at - now > EPSILON || segment.run === this.runs) break
      this.flight.shift()
      const to = this.to
      switch (segment.kind) {
        case DATA: {
          const bytes = segment.bytes!
          this.flightBytes -= bytes.length
          if (to.released || to.aborted) {
            // the receiving socket is gone: its kernel answers with RST
            this.net.record(`${this.conn.id} ${this.dir} data to a closed socket, rst`)
            if (!to.aborted) to.abortFromClosed()
            continue
          }
          this.recv.push(bytes)
          this.recvBytes += bytes.length
          if (this.nagle) this.dataArrived(bytes.length, now)
          break
        }
        case FIN:
          this.finArrived = true
          break
        case RST:
          this.rstArrived = true
          this.flight.length = 0
          this.flightBytes = 0
          to.onReset()
          break
      }
      // the acknowledgement it carries, after its data (Linux queues the data, then acts on the ACK)
      if (segment.ack >= 0) this.from.in.ackArrived(segment.ack)
    }
  }

  /** Hands buffered bytes, the end or the error to a reading receiver. */
  private deliver(): boolean {
    const to = this.to
    let delivered = false
    let budget = 64
    while (to.reading && !to.released && this.recv.length > 0 && budget-- > 0) {
      let chunk: Uint8Array
      if (this.link.slice > 0 || this.recv.length === 1 || this.recv[0]!.length >= READ_CHUNK) {
        chunk = this.recv.shift()!
      } else {
        let size = 0
        let count = 0
        while (count < this.recv.length && size + this.recv[count]!.length <= READ_CHUNK) {
          size += this.recv[count]!.length
          count++
        }
        chunk = new Uint8Array(size)
        let offset = 0
        for (let i = 0; i < count; i++) {
          chunk.set(this.recv[i]!, offset)
          offset += this.recv[i]!.length
        }
        this.recv.splice(0, count)
      }
      this.recvBytes -= chunk.length
      delivered = true
      this.net.record(`${this.conn.id} ${this.dir} data ${chunk.length}`)
      to.events?.onData(chunk)
    }
    if (delivered && this.nagle) this.consumed()
    if (this.recv.length > 0 && to.reading && !to.released) this.schedule()
    if (this.recv.length === 0 && to.reading && !to.released) {
      if (this.finArrived && !to.endDelivered) {
        to.endDelivered = true
        to.reading = false
        this.net.record(`${this.conn.id} ${this.dir} end`)
        to.events?.onEnd()
      } else if ((this.rstArrived || to.timedOut) && !to.endDelivered && !to.errorDelivered) {
        to.reading = false
        const code = to.pendingError
        if (code === "ECONNRESET" || code === "ETIMEDOUT") {
          to.errorDelivered = true
          to.pendingError = "EPIPE"
          this.net.record(`${this.conn.id} ${this.dir} read error ${code}`)
          to.events?.onError(error(code, "read"))
        } else {
          // the error was consumed by a write: reads see the end
          to.endDelivered = true
          to.events?.onEnd()
        }
      }
    }
    return delivered
  }

  private armTimer(): void {
    if (this.flight.length === 0) {
      this.cancelTimer()
      this.cancelRetransmission()
      return
    }
    if (this.conn.blocked()) {
      // nothing gets through: the sender retransmits until it gives up (ETIMEDOUT)
      this.cancelTimer()
      if (this.retransmission === undefined && !this.from.aborted && !this.from.released) {
        this.retransmission = this.net.timers.schedule(this.net.retransmissionTimeout, () => {
          this.retransmission = undefined
          if (!this.conn.blocked() || this.flight.length === 0) return
          this.net.record(`${this.conn.id} ${this.dir} retransmission timeout`)
          this.from.onTimedOut()
        })
      }
      return
    }
    this.cancelRetransmission()
    const at = this.flight[0]!.at
    if (this.timer !== undefined && this.timerAt <= at) return
    this.cancelTimer()
    this.timerAt = at
    this.timer = this.net.timers.schedule(Math.max(0, Math.ceil(at - this.net.timers.now())), () => {
      this.timer = undefined
      this.schedule()
    })
  }

  cancelTimer(): void {
    if (this.timer !== undefined) {
      this.timer()
      this.timer = undefined
    }
  }

  cancelRetransmission(): void {
    if (this.retransmission !== undefined) {
      this.retransmission()
      this.retransmission = undefined
    }
  }

  /** Fails every queued write (the socket was reset or closed). */
  failWrites(code: string): void {
    const writes = this.writes.splice(0)
    this.queued = 0
    for (let i = 0; i < writes.length; i++) {
      const request = writes[i]!
      const e = error(i === 0 ? code : code === "ECANCELED" ? code : "EPIPE", "write")
      this.net.queue.post({ run: () => request.callback(e) })
    }
    const fins = this.finCallbacks.splice(0)
    for (const callback of fins) this.net.queue.post({ run: () => callback(undefined) })
  }
}

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

  private release(): void {
    this.released = true
    this.reading = false
    this.events = undefined
    this.conn.onRelease()
  }

  /** Sends RST to the peer; this socket is dead. */
  abort(): void {
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

// ---------------------------------------------------------------------------
// listeners
// ---------------------------------------------------------------------------

/** A bound listener. */
export class MemoryListener implements ListenerHandle {
  readonly net: VirtualNetwork
  readonly target: ListenTarget
  readonly local: Endpoint
  /** For TCP: the bound address, whether it takes IPv4 too, the port. */
  readonly address: string
  readonly port: number
  readonly dualStack: boolean
  readonly reusePort: boolean
  readonly backlog: number
  readonly events: ListenerEvents
  pending: Array<Conn> = []
  accepted = 0
  closed = false
  private scheduled = false

  constructor(
    net: VirtualNetwork,
    target: ListenTarget,
    local: Endpoint,
    events: ListenerEvents,
    options: { address: string; port: number; dualStack: boolean; reusePort: boolean; backlog: number }
  ) {
    this.net = net
    this.target = target
    this.local = local
    this.events = events
    this.address = options.address
    this.port = options.port
    this.dualStack = options.dualStack
    this.reusePort = options.reusePort
    this.backlog = options.backlog
  }

  /** Linux admits `backlog + 1` connections to the accept queue. */
  full(): boolean {
    return this.pending.length > this.backlog
  }

  enqueue(conn: Conn): void {
    this.pending.push(conn)
    if (!this.scheduled) {
      this.scheduled = true
      this.net.queue.post({ run: () => this.deliver() })
    }
  }

  private deliver(): void {
    this.scheduled = false
    const pending = this.pending.splice(0)
    for (const conn of pending) {
      if (this.closed) {
        conn.server.reset(() => {})
        continue
      }
      this.accepted++
      this.net.record(`${conn.id} accepted`)
      this.events.onConnection(conn.server)
    }
  }

  endpoint(): Endpoint {
    return this.local
  }

  close(callback: () => void): void {
    if (!this.closed) {
      this.closed = true
      this.net.unbind(this)
      this.net.record(`listener ${format(this.local)} closed`)
      for (const conn of this.pending.splice(0)) conn.server.reset(() => {})
    }
    this.net.queue.post({ run: callback })
  }

  ref(): void {}

  unref(): void {}
}

// ---------------------------------------------------------------------------
// the network
// ---------------------------------------------------------------------------

/** The virtual network: registries, host table, faults. */
export class VirtualNetwork {
  readonly queue = new RunQueue()
  readonly random: Random
  readonly timers: Timers
  readonly bufferSize: number
  readonly retransmissionTimeout: number
  readonly nagle: boolean
  readonly ephemeral: readonly [number, number]
  readonly hosts = new Map<string, Array<LookupAddress>>()
  readonly tcpListeners: Array<MemoryListener> = []
  readonly ipcListeners = new Map<string, MemoryListener>()
  readonly connections = new Set<Conn>()
  readonly rules: Array<FaultRule> = []
  readonly partitions = new Set<string>()
  readonly usedPorts = new Set<number>()
  readonly pendingConnects = new Set<{ cancel: () => void }>()
  readonly log: Array<string> | undefined
  private nextId = 1
  private roundRobin = 0

  constructor(options: NetworkOptions | undefined) {
    this.random = new Random(options?.seed ?? 1)
    this.timers = options?.timers ?? realTimers
    this.bufferSize = Math.max(1, options?.bufferSize ?? 65536)
    // Linux gives up after tcp_retries2 = 15 retransmissions: about 924.6 s
    this.retransmissionTimeout = options?.retransmissionTimeout ?? 924_600
    this.nagle = options?.nagle ?? true
    this.ephemeral = options?.ephemeralPorts ?? [32768, 60999]
    this.log = options?.trace === true ? [] : undefined
    this.setHost("localhost", ["127.0.0.1", "::1"])
    for (const [name, addresses] of Object.entries(options?.hosts ?? {})) this.setHost(name, addresses)
    for (const rule of options?.faults ?? []) this.rules.push(rule)
  }

  record(line: string): void {
    this.log?.push(line)
  }

  setHost(name: string, addresses: string | ReadonlyArray<string>): void {
    const resolved: Array<LookupAddress> = []
    for (const address of typeof addresses === "string" ? [addresses] : addresses) {
      const family = isIP(address)
      if (family !== 0) resolved.push({ address, family })
    }
    this.hosts.set(name.toLowerCase(), resolved)
  }

  removeHost(name: string): void {
    this.hosts.delete(name.toLowerCase())
  }

  /** The addresses a host name or address stands for, as partition keys. */
  keysOf(host: string): Array<string> {
    if (isIP(host) !== 0) return [hostKey(host)]
    return (this.hosts.get(host.toLowerCase()) ?? []).map((a) => hostKey(a.address))
  }

  partition(a: string, b: string): void {
    for (const x of this.keysOf(a)) {
      for (const y of this.keysOf(b)) {
        this.partitions.add(`${x}|${y}`)
        this.partitions.add(`${y}|${x}`)
      }
    }
    this.record(`partition ${a} ${b}`)
  }

  heal(a?: string, b?: string): void {
    if (a === undefined || b === undefined) this.partitions.clear()
    else {
      for (const x of this.keysOf(a)) {
        for (const y of this.keysOf(b)) {
          this.partitions.delete(`${x}|${y}`)
          this.partitions.delete(`${y}|${x}`)
        }
      }
    }
    this.record(`heal ${a ?? "all"} ${b ?? ""}`.trimEnd())
    for (const conn of this.connections) conn.wake()
  }

  partitioned(a: string | undefined, b: string | undefined): boolean {
    return a !== undefined && b !== undefined && this.partitions.size > 0 && this.partitions.has(`${a}|${b}`)
  }

  /** Links of a new connection, from the rules matching its server side. */
  private rulesFor(server: { host: string | undefined; port: number | undefined; path: string | undefined }) {
    const out: Array<FaultRule> = []
    for (const rule of this.rules) {
      const m = rule.match
      if (m !== undefined) {
        if (m.path !== undefined && m.path !== server.path) continue
        if (m.port !== undefined && m.port !== server.port) continue
        if (m.host !== undefined && (server.host === undefined || !this.keysOf(m.host).includes(server.host))) {
          continue
        }
      }
      out.push(rule)
    }
    return out
  }

  private linkOf(rules: ReadonlyArray<FaultRule>, dir: Direction): Link {
    const link: Link = { latency: 0, bandwidth: 0, slice: 0, resetAfter: -1, slowClose: 0 }
    for (const rule of rules) {
      link.latency = pick(rule.latency, dir) ?? link.latency
      link.bandwidth = pick(rule.bandwidth, dir) ?? link.bandwidth
      link.slice = pick(rule.slice, dir) ?? link.slice
      link.resetAfter = pick(rule.resetAfter, dir) ?? link.resetAfter
      link.slowClose = rule.slowClose ?? link.slowClose
    }
    return link
  }

  /** Runs `f` after `ms` (through the run queue); returns a canceller. */
  after(ms: number, f: () => void): () => void {
    let cancelled = false
    const task: Task = {
      run: () => {
        if (!cancelled) f()
      }
    }
    if (ms <= 0) {
      this.queue.post(task)
      return () => {
        cancelled = true
      }
    }
    const cancel = this.timers.schedule(ms, () => this.queue.post(task))
    return () => {
      cancelled = true
      cancel()
    }
  }

  ephemeralPort(): number | undefined {
    const [min, max] = this.ephemeral
    const span = max - min + 1
    const start = this.random.int(0, span - 1)
    for (let i = 0; i < span; i++) {
      const port = min + ((start + i) % span)
      if (!this.usedPorts.has(port)) return port
    }
    return undefined
  }

  // -- listen ---------------------------------------------------------------

  private conflicts(address: string, port: number, dualStack: boolean, reusePort: boolean): boolean {
    const family = familyOf(address)
    for (const l of this.tcpListeners) {
      if (l.port !== port) continue
      if (reusePort && l.reusePort && l.address === address) continue
      const lFamily = familyOf(l.address)
      if (lFamily === family) {
        if (unspecified(l.address) || unspecified(address) || l.address === address) return true
      } else {
        // an IPv6 wildcard that takes IPv4 too overlaps every IPv4 address
        if (family === "IPv4" && l.dualStack) return true
        if (lFamily === "IPv4" && dualStack) return true
      }
    }
    return false
  }

  listen(
    target: ListenTarget,
    events: ListenerEvents,
    callback: (error: DriverError | undefined, listener: ListenerHandle | undefined) => void
  ): void {
    // a bind that succeeds is reported at once (node binds synchronously, its
    // address is readable as soon as `listen` returns); failures on a later turn
    const reply = (e: DriverError | undefined, l: ListenerHandle | undefined) =>
      e === undefined ? callback(e, l) : this.queue.post({ run: () => callback(e, l) })
    switch (target._tag) {
      case "Fd":
        return reply(error("ENOTSUP", "listen"), undefined)
      case "Ipc": {
        if (this.ipcListeners.has(target.path)) return reply(error("EADDRINUSE", "listen", target.path), undefined)
        const local: Endpoint = { _tag: "Ipc", path: target.path }
        const listener = new MemoryListener(this, target, local, events, {
          address: target.path,
          port: 0,
          dualStack: false,
          reusePort: false,
          backlog: Math.min(target.backlog, 4096)
        })
        this.ipcListeners.set(target.path, listener)
        this.record(`listen ${target.path}`)
        return reply(undefined, listener)
      }
      case "Tcp": {
        const host = target.host
        // binding is synchronous, as in node: a second listen in the same tick sees EADDRINUSE
        if (host === undefined || isIP(host) !== 0) return reply(...this.bind(target, host ?? "::", events))
        // a name: resolve it first, as node's server.listen does
        this.lookup(host, { family: 0, hints: 0, all: false }, (e, addresses) => {
          if (e !== undefined || addresses.length === 0) {
            callback(e ?? error("ENOTFOUND", "getaddrinfo", host), undefined)
          } else callback(...this.bind(target, addresses[0]!.address, events))
        })
      }
    }
  }

  private bind(
    target: Extract<ListenTarget, { _tag: "Tcp" }>,
    address: string,
    events: ListenerEvents
  ): [DriverError | undefined, ListenerHandle | undefined] {
    const dualStack = address === "::" && !target.ipv6Only
    let port = target.port
    if (port === 0) {
      const chosen = this.ephemeralPort()
      if (chosen === undefined) return [error("EADDRINUSE", "listen", address, 0), undefined]
      port = chosen
    } else if (this.conflicts(address, port, dualStack, target.reusePort)) {
      return [error("EADDRINUSE", "listen", address, port), undefined]
    }
    const local: Endpoint = { _tag: "Tcp", address, port, family: familyOf(address) }
    const listener = new MemoryListener(this, target, local, events, {
      address,
      port,
      dualStack,
      reusePort: target.reusePort,
      backlog: Math.min(target.backlog, 4096)
    })
    this.tcpListeners.push(listener)
    this.usedPorts.add(port)
    this.record(`listen ${format(local)}`)
    return [undefined, listener]
  }

  unbind(listener: MemoryListener): void {
    if (listener.target._tag === "Ipc") {
      if (this.ipcListeners.get(listener.target.path) === listener) this.ipcListeners.delete(listener.target.path)
      return
    }
    const i = this.tcpListeners.indexOf(listener)
    if (i >= 0) this.tcpListeners.splice(i, 1)
    if (!this.tcpListeners.some((l) => l.port === listener.port)) this.usedPorts.delete(listener.port)
  }

  private findListener(address: string, port: number): MemoryListener | undefined {
    const family = familyOf(address)
    const candidates: Array<MemoryListener> = []
    let best = 0
    for (const l of this.tcpListeners) {
      if (l.port !== port || l.closed) continue
      let score = 0
      if (hostKey(l.address) === hostKey(address) && familyOf(l.address) === family) score = 3
      else if (unspecified(l.address) && familyOf(l.address) === family) score = 2
      else if (family === "IPv4" && l.dualStack) score = 1
      if (score === 0) continue
      if (score > best) {
        best = score
        candidates.length = 0
      }
      if (score === best) candidates.push(l)
    }
    if (candidates.length === 0) return undefined
    return candidates[this.roundRobin++ % candidates.length]
  }

  // -- connect --------------------------------------------------------------

  connect(
    target: ConnectTarget,
    callback: (error: DriverError | undefined, handle: Handle | undefined) => void
  ): PendingConnect {
    let done = false
    let cancelStep: () => void = () => {}
    let established: Conn | undefined = undefined
    // a kernel binds the local port when connect(2) is called: reserved at once, released if no connection takes it
    let reserved: Endpoint | undefined = undefined
    // whether this attempt took the port (a given localPort may already be another socket's)
    let owned = false
    const release = () => {
      if (reserved?._tag === "Tcp" && owned && established === undefined) {
        const port = reserved.port
        if (!this.tcpListeners.some((l) => l.port === port)) this.usedPorts.delete(port)
      }
      reserved = undefined
    }
    const entry = {
      cancel: () => {
        if (done) return
        done = true
        this.pendingConnects.delete(entry)
        release()
        cancelStep()
        // the handshake completed but nobody took the socket: close it, the server sees FIN
        established?.client.close(() => {})
      }
    }
    this.pendingConnects.add(entry)
    const finish = (e: DriverError | undefined, handle: Handle | undefined) => {
      if (done) {
        handle?.close(() => {})
        return
      }
      done = true
      this.pendingConnects.delete(entry)
      release()
      callback(e, handle)
    }
    const pending = Object.assign(entry.cancel, { local: () => reserved })
    if (target._tag === "Ipc") {
      const path = target.path
      const rules = this.rulesFor({ host: undefined, port: undefined, path })
      const up = this.linkOf(rules, "toServer")
      const down = this.linkOf(rules, "toClient")
      cancelStep = this.after(up.latency, () => {
        const listener = this.ipcListeners.get(path)
        const refuse = rules.some((r) => r.refuse === true)
        if (listener === undefined || refuse) {
          return (cancelStep = this.after(
            down.latency,
            () => finish(error(listener === undefined ? "ENOENT" : "ECONNREFUSED", "connect", path), undefined)
          ))
        }
        if (listener.full()) {
          return (cancelStep = this.after(down.latency, () => finish(error("EAGAIN", "connect", path), undefined)))
        }
        const local: Endpoint = { _tag: "Ipc", path }
        const conn = new Conn(
          this,
          `c${this.nextId++}`,
          { clientLocal: local, clientRemote: local, serverLocal: local, serverRemote: local },
          { up, down },
          { client: undefined, server: undefined }
        )
        this.connections.add(conn)
        established = conn
        this.record(`${conn.id} connect ${path}`)
        listener.enqueue(conn)
        cancelStep = this.after(down.latency, () => finish(undefined, conn.client))
      })
      return pending
    }

    // TCP
    const dst = target.address === "0.0.0.0" ? "127.0.0.1" : target.address === "::" ? "::1" : target.address
    const port = target.port
    const src = target.localAddress ?? dst
    const dstKey = hostKey(dst)
    const srcKey = hostKey(src)
    const rules = this.rulesFor({ host: dstKey, port, path: undefined })
    const up = this.linkOf(rules, "toServer")
    const down = this.linkOf(rules, "toClient")
    if (target.localAddress !== undefined && familyOf(target.localAddress) !== familyOf(dst)) {
      // a socket of the target's family cannot bind an address of the other one
      const localPort = target.localPort === 0 ? undefined : target.localPort
      cancelStep = this.after(0, () => finish(error("EINVAL", "bind", target.localAddress, localPort), undefined))
      return pending
    }
    if (target.localPort !== undefined && target.localPort !== 0 && this.findListener(src, target.localPort)) {
      cancelStep = this.after(0, () => finish(error("EADDRINUSE", "bind", src, target.localPort), undefined))
      return pending
    }
    const syn = (attempt: number): void => {
      if (this.partitioned(srcKey, dstKey)) {
        // the SYN is lost: retry like a kernel, then give up
        const wait = SYN_RETRIES[attempt]
        if (wait === undefined) return finish(error("ETIMEDOUT", "connect", dst, port), undefined)
        cancelStep = this.after(wait, () => syn(attempt + 1))
        return
      }
      const listener = this.findListener(dst, port)
      if (listener === undefined || rules.some((r) => r.refuse === true)) {
        this.record(`connect ${dst}:${port} refused`)
        cancelStep = this.after(down.latency, () => finish(error("ECONNREFUSED", "connect", dst, port), undefined))
        return
      }
      if (listener.full()) {
        const wait = SYN_RETRIES[attempt]
        if (wait === undefined) return finish(error("ETIMEDOUT", "connect", dst, port), undefined)
        this.record(`connect ${dst}:${port} backlog full`)
        cancelStep = this.after(wait, () => syn(attempt + 1))
        return
      }
      const localPort = reserved?._tag === "Tcp" ? reserved.port : undefined
      if (localPort === undefined) {
        return finish(error("EADDRNOTAVAIL", "connect", dst, port), undefined)
      }
      const family = familyOf(dst)
      const mapped = family === "IPv4" && familyOf(listener.address) === "IPv6"
      const serverFamily: Family = mapped ? "IPv6" : family
      const v6 = (a: string) => (mapped ? `::ffff:${a}` : a)
      const conn = new Conn(
        this,
        `c${this.nextId++}`,
        {
          clientLocal: { _tag: "Tcp", address: src, port: localPort, family: familyOf(src) },
          clientRemote: { _tag: "Tcp", address: dst, port, family },
          serverLocal: { _tag: "Tcp", address: v6(dst), port, family: serverFamily },
          serverRemote: { _tag: "Tcp", address: v6(src), port: localPort, family: serverFamily }
        },
        { up, down },
        { client: srcKey, server: dstKey }
      )
      this.usedPorts.add(localPort)
      this.connections.add(conn)
      established = conn
      this.record(`${conn.id} connect ${format(conn.client.local)} -> ${format(conn.client.remote)}`)
      listener.enqueue(conn)
      cancelStep = this.after(down.latency, () => finish(undefined, conn.client))
    }
    const chosen = target.localPort !== undefined && target.localPort !== 0 ? target.localPort : this.ephemeralPort()
    if (chosen !== undefined) {
      reserved = { _tag: "Tcp", address: src, port: chosen, family: familyOf(src) }
      owned = !this.usedPorts.has(chosen)
      this.usedPorts.add(chosen)
    }
    cancelStep = this.after(up.latency, () => syn(0))
    return pending
  }

  // -- lookup ---------------------------------------------------------------

  lookup(
    hostname: string,
    options: LookupOptions,
    callback: (error: DriverError | undefined, addresses: ReadonlyArray<LookupAddress>) => void
  ): () => void {
    const literal = isIP(hostname)
    const all: ReadonlyArray<LookupAddress> = literal !== 0
      ? [{ address: hostname, family: literal }]
      : this.hosts.get(hostname.toLowerCase()) ?? []
    const found = options.family === 0 ? all : all.filter((a) => a.family === options.family)
    return this.after(0, () => {
      if (found.length === 0) callback(error("ENOTFOUND", "getaddrinfo", hostname), [])
      else callback(undefined, options.all ? found : [found[0]!])
    })
  }

  // -- faults and inspection ------------------------------------------------

  /** Cancels every pending timer-driven step (the network is being discarded). */
  dispose(): void {
    for (const pending of this.pendingConnects) pending.cancel()
    this.pendingConnects.clear()
    for (const conn of this.connections) {
      for (const pipe of [conn.up, conn.down]) {
        pipe.cancelTimer()
        pipe.cancelRetransmission()
      }
    }
  }
}
