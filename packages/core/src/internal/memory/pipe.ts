/**
 * One direction of a memory connection: the sender's write queue, the
 * segments in flight (latency, bandwidth, Nagle's algorithm and delayed
 * ACKs), and the receiver's buffer. The in-flight and received bytes together
 * are bounded by the buffer size, so a reader that stops reading makes the
 * writer's queue fill and its write completions wait, as with real sockets.
 *
 * @internal
 */
import type { DriverError } from "../../Driver.ts"
import { familyOf } from "./addresses.ts"
import type { Conn, End } from "./connection.ts"
import { error } from "./errors.ts"
import type { Direction, Link } from "./faults.ts"
import type { VirtualNetwork } from "./network.ts"
import type { Task } from "./scheduling.ts"
import {
  DELAYED_ACK,
  EPSILON,
  INITIAL_RCV_MSS,
  INITIAL_WINDOW,
  LOOPBACK_MSS,
  QUICK_ACKS,
  RTO_MIN,
  windowAfterSegment,
  windowUpdateAfter
} from "./tcp.ts"

const READ_CHUNK = 65536

interface WriteRequest {
  readonly chunks: ReadonlyArray<Uint8Array>
  index: number
  offset: number
  remaining: number
  readonly callback: (error: DriverError | undefined) => void
}

export const DATA = 0
export const FIN = 1
export const RST = 2

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
      // (a sender that never gives up, `retransmissionTimeout: Infinity`, arms nothing)
      if (
        this.retransmission === undefined && !this.from.aborted && !this.from.released
        && this.net.retransmissionTimeout < Infinity
      ) {
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
