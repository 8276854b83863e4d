/**
 * The plain code under `Framing`: a queue of received chunks that hands out
 * frames without copying more than a frame, and the decoders that find frames
 * in it. No Effect runs here: the `Framing` combinators call these once per
 * batch of chunks pulled.
 */

/**
 * Why a frame could not be decoded or encoded; `Framing` turns it into a
 * `FramingError`.
 */
export interface FrameProblem {
  readonly reason: "FrameTooLarge" | "Truncated" | "InvalidFrame"
  readonly detail: string
  readonly frameSize?: number | undefined
  readonly maxFrameSize?: number | undefined
  readonly received?: number | undefined
}

/** A problem, told from a frame (a byte array, of whichever realm made it). */
export const isProblem = (u: Uint8Array | FrameProblem): u is FrameProblem => !ArrayBuffer.isView(u)

/** A `Uint8Array`, of whichever realm made it (`instanceof` tells only this realm's). */
export const isBytes = (u: unknown): u is Uint8Array =>
  ArrayBuffer.isView(u) && Object.prototype.toString.call(u) === "[object Uint8Array]"

const empty = new Uint8Array(0)

/**
 * Received bytes not yet handed out, as the chunks they arrived in. A frame
 * inside one chunk is handed out as a `subarray` view of it; a frame across
 * chunks is copied once, into a buffer of its exact size.
 */
export class ByteQueue {
  private chunks: Array<Uint8Array> = []
  /** Index of the first chunk still holding bytes. */
  private head = 0
  /** Bytes of `chunks[head]` already handed out. */
  private offset = 0
  /** Bytes queued. */
  size = 0

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return
    this.chunks.push(chunk)
    this.size += chunk.length
  }

  /** The last byte queued (size > 0). */
  lastByte(): number {
    const last = this.chunks[this.chunks.length - 1]!
    return last[last.length - 1]!
  }

  /** The byte at position `i` (0 ≤ i < size). */
  byteAt(i: number): number {
    let at = i + this.offset
    for (let k = this.head;; k++) {
      const chunk = this.chunks[k]!
      if (at < chunk.length) return chunk[at]!
      at -= chunk.length
    }
  }

  /**
   * The position of the first occurrence of `delimiter` starting at or after
   * `from`, or -1.
   */
  indexOf(delimiter: Uint8Array, from: number): number {
    if (this.size - from < delimiter.length) return -1
    const first = delimiter[0]!
    // find the chunk holding position `from`, from the end: a decoder resumes
    // its search near the end of what is queued (many tiny chunks stay linear)
    let k = this.chunks.length - 1
    let base = this.size - this.chunks[k]!.length // position of chunks[k][0]
    while (base > from) {
      k--
      base -= this.chunks[k]!.length
    }
    let pos = from - base
    for (; k < this.chunks.length; k++) {
      const chunk = this.chunks[k]!
      for (;;) {
        const hit = chunk.indexOf(first, pos)
        if (hit < 0) break
        if (delimiter.length === 1 || this.matchesAt(delimiter, k, hit)) return base + hit
        pos = hit + 1
      }
      base += chunk.length
      pos = 0
    }
    return -1
  }

  /** Whether `delimiter` occurs at `chunks[k][at]` (possibly running into later chunks). */
  private matchesAt(delimiter: Uint8Array, k: number, at: number): boolean {
    let chunk = this.chunks[k]!
    for (let j = 0; j < delimiter.length; j++, at++) {
      while (at >= chunk.length) {
        at -= chunk.length
        const next = this.chunks[++k]
        if (next === undefined) return false
        chunk = next
      }
      if (chunk[at] !== delimiter[j]) return false
    }
    return true
  }

  /** Hands out the first `n` bytes (n ≤ size): a view when they lie in one chunk, else one copy. */
  take(n: number): Uint8Array {
    if (n === 0) return empty
    const first = this.chunks[this.head]!
    const start = this.offset
    if (start + n <= first.length) {
      const out = start === 0 && n === first.length ? first : first.subarray(start, start + n)
      this.skip(n)
      return out
    }
    const out = new Uint8Array(n)
    let filled = 0
    while (filled < n) {
      const chunk = this.chunks[this.head]!
      const k = Math.min(chunk.length - this.offset, n - filled)
      out.set(chunk.subarray(this.offset, this.offset + k), filled)
      filled += k
      this.skip(k)
    }
    return out
  }

  /** Drops the first `n` bytes (n ≤ size). */
  skip(n: number): void {
    this.size -= n
    let left = n
    while (left > 0) {
      const chunk = this.chunks[this.head]!
      const rest = chunk.length - this.offset
      if (left < rest) {
        this.offset += left
        return
      }
      left -= rest
      this.advance()
    }
    if (this.head < this.chunks.length && this.offset === this.chunks[this.head]!.length) this.advance()
  }

  private advance(): void {
    this.offset = 0
    this.head++
    if (this.head === this.chunks.length) {
      this.chunks = []
      this.head = 0
    } else if (this.head >= 64 && this.head * 2 >= this.chunks.length) {
      this.chunks = this.chunks.slice(this.head)
      this.head = 0
    }
  }

  /** Hands out everything queued, as views of the chunks it arrived in. */
  drain(): Array<Uint8Array> {
    const out: Array<Uint8Array> = []
    for (let k = this.head; k < this.chunks.length; k++) {
      const chunk = this.chunks[k]!
      out.push(k === this.head && this.offset > 0 ? chunk.subarray(this.offset) : chunk)
    }
    this.chunks = []
    this.head = 0
    this.offset = 0
    this.size = 0
    return out
  }
}

/**
 * Finds frames in a {@link ByteQueue}. A decoder has state (how far it looked,
 * the length it read): one per stream or per read.
 */
export interface FrameDecoder {
  /** The next whole frame, `undefined` while more bytes are needed, or the problem. */
  next(queue: ByteQueue): Uint8Array | FrameProblem | undefined
  /** The input ended with `queue` holding the rest: a last frame, nothing, or the problem. */
  end(queue: ByteQueue): Uint8Array | FrameProblem | undefined
}

/** The largest frame a length header of `headerSize` bytes can announce. */
export const headerCapacity = (headerSize: 1 | 2 | 4): number =>
  headerSize === 4 ? 0xffff_ffff : 2 ** (8 * headerSize) - 1

const tooLarge = (frameSize: number, maxFrameSize: number, what = "frame"): FrameProblem => ({
  reason: "FrameTooLarge",
  detail: `a ${what} of ${frameSize} bytes exceeds maxFrameSize (${maxFrameSize})`,
  frameSize,
  maxFrameSize
})

const tooLong = (atLeast: number, maxFrameSize: number): FrameProblem => ({
  reason: "FrameTooLarge",
  detail: `more than ${maxFrameSize} bytes without a delimiter (maxFrameSize ${maxFrameSize})`,
  frameSize: atLeast,
  maxFrameSize
})

/** Frames of `size` bytes each. */
export class FixedDecoder implements FrameDecoder {
  private readonly size: number
  constructor(size: number) {
    this.size = size
  }
  next(queue: ByteQueue): Uint8Array | undefined {
    return queue.size >= this.size ? queue.take(this.size) : undefined
  }
  end(queue: ByteQueue): FrameProblem | undefined {
    return queue.size === 0 ? undefined : truncated(this.size, queue.size)
  }
}

const truncated = (frameSize: number, received: number): FrameProblem => ({
  reason: "Truncated",
  detail: `the input ended ${received} bytes into a ${frameSize}-byte frame`,
  frameSize,
  received
})

/** A length header of 1, 2 or 4 bytes (big or little endian, unsigned), then that many bytes. */
export class LengthPrefixedDecoder implements FrameDecoder {
  /** The length read from the current header, -1 before it. */
  private length = -1
  private readonly headerSize: 1 | 2 | 4
  private readonly littleEndian: boolean
  private readonly maxFrameSize: number
  constructor(headerSize: 1 | 2 | 4, littleEndian: boolean, maxFrameSize: number) {
    this.headerSize = headerSize
    this.littleEndian = littleEndian
    this.maxFrameSize = maxFrameSize
  }

  private readLength(queue: ByteQueue): number {
    const n = this.headerSize
    let value = 0
    for (let i = 0; i < n; i++) {
      const byte = queue.byteAt(this.littleEndian ? n - 1 - i : i)
      value = value * 256 + byte
    }
    return value
  }

  next(queue: ByteQueue): Uint8Array | FrameProblem | undefined {
    if (this.length < 0) {
      if (queue.size < this.headerSize) return undefined
      const length = this.readLength(queue)
      if (length > this.maxFrameSize) return tooLarge(length, this.maxFrameSize)
      queue.skip(this.headerSize)
      this.length = length
    }
    if (queue.size < this.length) return undefined
    const frame = queue.take(this.length)
    this.length = -1
    return frame
  }

  end(queue: ByteQueue): FrameProblem | undefined {
    if (this.length >= 0) return truncated(this.length, queue.size)
    if (queue.size === 0) return undefined
    return {
      reason: "Truncated",
      detail: `the input ended ${queue.size} bytes into a ${this.headerSize}-byte length header`,
      received: queue.size
    }
  }
}

/** What to do with bytes after the last delimiter at the end of input. */
export type Trailing = "error" | "emit"

/** Frames ended by a delimiter (not part of the frame). */
export class DelimitedDecoder implements FrameDecoder {
  /** Positions before this one hold no delimiter start. */
  private scanned = 0
  private readonly delimiter: Uint8Array
  private readonly maxFrameSize: number
  private readonly trailing: Trailing
  constructor(delimiter: Uint8Array, maxFrameSize: number, trailing: Trailing) {
    this.delimiter = delimiter
    this.maxFrameSize = maxFrameSize
    this.trailing = trailing
  }

  next(queue: ByteQueue): Uint8Array | FrameProblem | undefined {
    const d = this.delimiter.length
    const at = queue.indexOf(this.delimiter, this.scanned)
    if (at < 0) {
      // a delimiter may still start at size - d + 1: the frame is at least that long
      const least = queue.size - d + 1
      if (least > this.maxFrameSize) return tooLong(least, this.maxFrameSize)
      this.scanned = Math.max(0, least)
      return undefined
    }
    if (at > this.maxFrameSize) return tooLarge(at, this.maxFrameSize)
    this.scanned = 0
    const frame = queue.take(at)
    queue.skip(d)
    return frame
  }

  end(queue: ByteQueue): Uint8Array | FrameProblem | undefined {
    return endTrailing(queue, this.trailing, this.maxFrameSize, "delimiter")
  }
}

const endTrailing = (
  queue: ByteQueue,
  trailing: Trailing,
  maxFrameSize: number,
  what: string
): Uint8Array | FrameProblem | undefined => {
  if (queue.size === 0) return undefined
  if (trailing === "emit") {
    return queue.size > maxFrameSize ? tooLarge(queue.size, maxFrameSize) : queue.take(queue.size)
  }
  return {
    reason: "Truncated",
    detail: `the input ended with ${queue.size} bytes after the last ${what}`,
    received: queue.size
  }
}

const LF = 10
const CR = 13
const newline = Uint8Array.of(LF)

/** Lines ended by `\n` or `\r\n` (the terminator is not part of the line). */
export class LineDecoder implements FrameDecoder {
  private scanned = 0
  private readonly maxFrameSize: number
  private readonly trailing: Trailing
  constructor(maxFrameSize: number, trailing: Trailing) {
    this.maxFrameSize = maxFrameSize
    this.trailing = trailing
  }

  next(queue: ByteQueue): Uint8Array | FrameProblem | undefined {
    const at = queue.indexOf(newline, this.scanned)
    if (at < 0) {
      // the line is at least `size` bytes long, one less if the last byte is a CR
      const size = queue.size
      const least = size > 0 && queue.lastByte() === CR ? size - 1 : size
      if (least > this.maxFrameSize) return tooLong(least, this.maxFrameSize)
      this.scanned = size
      return undefined
    }
    const cr = at > 0 && queue.byteAt(at - 1) === CR ? 1 : 0
    const length = at - cr
    if (length > this.maxFrameSize) return tooLarge(length, this.maxFrameSize, "line")
    this.scanned = 0
    const line = queue.take(length)
    queue.skip(cr + 1)
    return line
  }

  end(queue: ByteQueue): Uint8Array | FrameProblem | undefined {
    return endTrailing(queue, this.trailing, this.maxFrameSize, "line terminator")
  }
}
