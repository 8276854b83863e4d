/**
 * Frames over a byte stream: exact-N reads, length-prefixed frames and
 * delimited frames (lines), decoded from a socket's `reads` — or any
 * `Stream<Uint8Array>` — and encoded for its `writes`.
 *
 * **Details**
 *
 * The decoders are `Stream` combinators: they pull the bytes below only when
 * the frames above are pulled (a slow consumer makes the peer's writes wait,
 * as with `reads` itself), and they copy no more than a frame: a frame that
 * lies inside one received chunk is handed out as a `subarray` view of it, a
 * frame across chunks is assembled once, into a buffer of its exact size. The
 * work runs once per batch of chunks pulled, not per chunk or per frame.
 *
 * A frame beyond `maxFrameSize` fails the stream with a {@link FramingError}
 * (`FrameTooLarge`) as soon as it is known to be too large — a length header
 * says so, or more bytes than the limit arrived without a delimiter — so a
 * hostile peer cannot make a decoder buffer without bound. Input that ends in
 * the middle of a frame fails with `Truncated`. A clean end between frames
 * ends the stream.
 *
 * For protocols that mix frame kinds (a header line, then a body of N bytes),
 * a {@link Reader} reads one frame at a time and hands the rest on as a
 * stream.
 *
 * effect's `Stream.splitLines` splits text; these work on bytes, bound the
 * frame size, and tell a truncated frame from a clean end.
 *
 * @example
 * ```ts
 * import { Framing, Network } from "@sluice/core"
 * import { Effect, Stream } from "effect"
 *
 * // a line-based server: every line is answered in upper case
 * const program = Effect.gen(function*() {
 *   const socket = yield* Network.connect({ host: "127.0.0.1", port: 7000 })
 *   const decoder = new TextDecoder()
 *   const encoder = new TextEncoder()
 *   yield* socket.reads.pipe(
 *     Framing.decodeLines({ maxFrameSize: 1024 }),
 *     Stream.map((line) => encoder.encode(decoder.decode(line).toUpperCase())),
 *     Framing.encodeLines(),
 *     Stream.run(socket.writes)
 *   )
 * })
 * ```
 *
 * @since 0.1.0
 */
import type { NonEmptyReadonlyArray } from "effect/Array"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import { dual } from "effect/Function"
import * as Pull from "effect/Pull"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type { FrameDecoder, FrameProblem, Trailing } from "./internal/frames.ts"
import {
  ByteQueue,
  DelimitedDecoder,
  FixedDecoder,
  headerCapacity,
  isBytes,
  isProblem,
  LengthPrefixedDecoder,
  LineDecoder
} from "./internal/frames.ts"
import * as Options from "./internal/options.ts"
import { show } from "./internal/show.ts"
import { encodeUtf8 } from "./internal/text.ts"

// ---------------------------------------------------------------------------
// errors
// ---------------------------------------------------------------------------

/**
 * Why framing failed.
 *
 * - `FrameTooLarge`: a frame exceeds `maxFrameSize` (or what the length
 *   header can announce, when encoding);
 * - `Truncated`: the input ended inside a frame (or before the frame a
 *   {@link Reader} was asked for);
 * - `InvalidFrame`: a frame cannot be encoded as asked (it contains the
 *   delimiter, or a line its terminator);
 * - `InvalidOptions`: an option is not what it must be; `detail` names it.
 *
 * @category models
 * @since 0.1.0
 */
export const FramingReason = Schema.Literals(["FrameTooLarge", "Truncated", "InvalidFrame", "InvalidOptions"])

/**
 * Why framing failed (see the {@link FramingReason} schema).
 *
 * @category models
 * @since 0.1.0
 */
export type FramingReason = typeof FramingReason.Type

/**
 * A frame could not be decoded or encoded, or the options were invalid.
 * Carries the frame's size where known (the announced length, or at least how
 * much arrived without a delimiter), the limit, and how many bytes arrived of
 * a truncated frame.
 *
 * @category errors
 * @since 0.1.0
 */
export class FramingError extends Schema.TaggedError<FramingError>()("FramingError", {
  reason: FramingReason,
  detail: Schema.String,
  frameSize: Schema.optional(Schema.Number),
  maxFrameSize: Schema.optional(Schema.Number),
  received: Schema.optional(Schema.Number)
}) {
  override get message(): string {
    return `${this.reason}: ${this.detail}`
  }
}

const fromProblem = (problem: FrameProblem): FramingError => new FramingError(problem)

const invalid = (detail: string): FramingError => new FramingError({ reason: "InvalidOptions", detail })

// ---------------------------------------------------------------------------
// options
// ---------------------------------------------------------------------------

/**
 * Options of length-prefixed frames: a header holding the payload's length
 * as an unsigned integer, then the payload.
 *
 * @category models
 * @since 0.1.0
 */
export interface LengthPrefixOptions {
  /** Bytes of the length header: 1, 2 or 4 (default 4). */
  readonly headerSize?: 1 | 2 | 4 | undefined
  /** Byte order of the header (default `"big"`, network order). */
  readonly endian?: "big" | "little" | undefined
  /**
   * The largest payload accepted, in bytes (default 1 MiB, bounded by what
   * the header can hold). A larger announced length fails with
   * `FrameTooLarge` before any of its payload is buffered.
   */
  readonly maxFrameSize?: number | undefined
}

/**
 * Options of delimited frames: each frame is followed by the delimiter (which
 * is not part of the frame).
 *
 * @category models
 * @since 0.1.0
 */
export interface DelimiterOptions {
  /** The bytes ending each frame (a string is UTF-8 encoded); not empty. */
  readonly delimiter: Uint8Array | string
  /** The longest frame accepted, in bytes, without the delimiter (default 64 KiB). */
  readonly maxFrameSize?: number | undefined
  /**
   * Bytes after the last delimiter when the input ends: `"error"` (default)
   * fails with `Truncated`, `"emit"` hands them out as a last frame.
   */
  readonly trailing?: Trailing | undefined
}

/**
 * Options of lines: each ends with `\n`; a `\r` right before it is dropped
 * too, so `\r\n` and `\n` both end a line.
 *
 * @category models
 * @since 0.1.0
 */
export interface LineOptions {
  /** The longest line accepted, in bytes, without its terminator (default 64 KiB). */
  readonly maxFrameSize?: number | undefined
  /**
   * Bytes after the last line terminator when the input ends: `"error"`
   * (default) fails with `Truncated`, `"emit"` hands them out as a last line.
   */
  readonly trailing?: Trailing | undefined
}

/**
 * Options of the line encoder.
 *
 * @category models
 * @since 0.1.0
 */
export interface LineEncodeOptions {
  /** What ends each line (default `"\n"`). */
  readonly terminator?: "\n" | "\r\n" | undefined
  /** The longest line accepted, in bytes, without its terminator (default 64 KiB). */
  readonly maxFrameSize?: number | undefined
}

const defaultMaxFrame = 1024 * 1024
const defaultMaxLine = 64 * 1024

interface LengthPrefix {
  readonly headerSize: 1 | 2 | 4
  readonly littleEndian: boolean
  readonly maxFrameSize: number
}

/** A delimiter: non-empty bytes (copied: the caller may reuse its buffer) or a string, UTF-8 encoded. */
const delimiterField: Options.Field<Uint8Array> = {
  parse: (u) => {
    const bytes = typeof u === "string" ? encodeUtf8(u) : u
    return isBytes(bytes) && bytes.length > 0
      ? bytes.slice()
      : new Options.Invalid(`expected a non-empty Uint8Array or string, got ${show(u)}`)
  },
  only: undefined
}

const trailingField = Options.strings("error", "emit")

const readLengthPrefix = Options.reader({
  headerSize: Options.literals(1, 2, 4),
  endian: Options.strings("big", "little"),
  maxFrameSize: Options.nonNegativeInt
})
const readDelimited = Options.reader({
  delimiter: delimiterField,
  maxFrameSize: Options.nonNegativeInt,
  trailing: trailingField
})
const readLines = Options.reader({ maxFrameSize: Options.nonNegativeInt, trailing: trailingField })
const readLineEncode = Options.reader({
  terminator: Options.strings("\n", "\r\n"),
  maxFrameSize: Options.nonNegativeInt
})

/** The options read by `read` (absent options are `{}`), or the `InvalidOptions` error naming the field. */
const optionsOf = <A>(options: unknown, read: (options: unknown) => A | string): A | FramingError => {
  const o = read(options === undefined ? {} : options)
  return typeof o === "string" ? invalid(o) : o
}

const lengthPrefixOf = (options: unknown): LengthPrefix | FramingError => {
  const o = optionsOf(options, readLengthPrefix)
  if (o instanceof FramingError) return o
  const headerSize = o.headerSize ?? 4
  const max = o.maxFrameSize ?? defaultMaxFrame
  return { headerSize, littleEndian: o.endian === "little", maxFrameSize: Math.min(max, headerCapacity(headerSize)) }
}

interface Delimited {
  readonly delimiter: Uint8Array
  readonly maxFrameSize: number
  readonly trailing: Trailing
}

const delimitedOf = (options: unknown): Delimited | FramingError => {
  const o = optionsOf(options, readDelimited)
  if (o instanceof FramingError) return o
  if (o.delimiter === undefined) return invalid("delimiter: expected a non-empty Uint8Array or string, got undefined")
  return { delimiter: o.delimiter, maxFrameSize: o.maxFrameSize ?? defaultMaxLine, trailing: o.trailing ?? "error" }
}

interface Lines {
  readonly maxFrameSize: number
  readonly trailing: Trailing
}

const linesOf = (options: unknown): Lines | FramingError => {
  const o = optionsOf(options, readLines)
  if (o instanceof FramingError) return o
  return { maxFrameSize: o.maxFrameSize ?? defaultMaxLine, trailing: o.trailing ?? "error" }
}

const checkSize = (name: string, value: unknown, least: number): number | FramingError =>
  typeof value === "number" && Number.isSafeInteger(value) && value >= least
    ? value
    : invalid(`${name}: expected an integer ≥ ${least}, got ${show(value)}`)

// ---------------------------------------------------------------------------
// the stream transformer
// ---------------------------------------------------------------------------

/** What a framing stream does with each batch of input and at the end. */
interface Codec {
  /** Appends the output of a batch to `out`; a problem stops the stream after what was appended. */
  step(input: NonEmptyReadonlyArray<Uint8Array>, out: Array<Uint8Array>): FrameProblem | undefined
  /** Appends the last output to `out` at the end of input. */
  end(out: Array<Uint8Array>): FrameProblem | undefined
}

/** A pull over `upstream` that runs `codec` once per batch. */
class Framer<E> {
  private failure: FramingError | undefined = undefined
  private finished = false
  private readonly upstream: Pull.Pull<NonEmptyReadonlyArray<Uint8Array>, E>
  private readonly codec: Codec
  constructor(upstream: Pull.Pull<NonEmptyReadonlyArray<Uint8Array>, E>, codec: Codec) {
    this.upstream = upstream
    this.codec = codec
  }

  private emit(out: Array<Uint8Array>, problem: FrameProblem | undefined) {
    if (problem !== undefined) this.failure = fromProblem(problem)
    return out.length > 0 ? Effect.succeed(out as unknown as NonEmptyReadonlyArray<Uint8Array>) : this.pull
  }

  private readonly step = Pull.matchEffect({
    onSuccess: (input: NonEmptyReadonlyArray<Uint8Array>) => {
      const out: Array<Uint8Array> = []
      return this.emit(out, this.codec.step(input, out))
    },
    onFailure: (cause: Cause.Cause<E>) => Effect.failCause(cause),
    onDone: () => {
      this.finished = true
      const out: Array<Uint8Array> = []
      return this.emit(out, this.codec.end(out))
    }
  })

  readonly pull: Pull.Pull<NonEmptyReadonlyArray<Uint8Array>, E | FramingError> = Effect.suspend(() =>
    this.failure !== undefined
      ? Effect.fail(this.failure)
      : this.finished
      ? Cause.done()
      : this.step(this.upstream)
  )
}

const framed = <E, R>(
  self: Stream.Stream<Uint8Array, E, R>,
  codec: (() => Codec) | FramingError
): Stream.Stream<Uint8Array, E | FramingError, R> =>
  codec instanceof FramingError
    ? Stream.fail(codec)
    : Stream.transformPull(self, (upstream) => Effect.sync(() => new Framer(upstream, codec()).pull))

/** A codec that decodes with `decoder`. */
const decoding = (decoder: FrameDecoder): Codec => {
  const queue = new ByteQueue()
  return {
    step(input, out) {
      for (let i = 0; i < input.length; i++) queue.push(input[i]!)
      for (;;) {
        const frame = decoder.next(queue)
        if (frame === undefined) return undefined
        if (isProblem(frame)) return frame
        out.push(frame)
      }
    },
    end(out) {
      const frame = decoder.end(queue)
      if (frame === undefined || isProblem(frame)) return frame
      out.push(frame)
      return undefined
    }
  }
}

/** A codec that encodes each frame with `encode` (which appends the chunks that carry it). */
const encoding = (encode: (frame: Uint8Array, out: Array<Uint8Array>) => FrameProblem | undefined): Codec => ({
  step(input, out) {
    for (let i = 0; i < input.length; i++) {
      const problem = encode(input[i]!, out)
      if (problem !== undefined) return problem
    }
    return undefined
  },
  end: () => undefined
})

const isStreamFirst = (args: IArguments) => Stream.isStream(args[0])

// ---------------------------------------------------------------------------
// decoders
// ---------------------------------------------------------------------------

/**
 * Cuts the bytes into frames of exactly `size` bytes (fixed-size records);
 * input ending inside a frame fails with `Truncated`.
 *
 * @example
 * ```ts
 * import { Framing } from "@sluice/core"
 * import { Stream } from "effect"
 *
 * // 16-byte records
 * const records = Stream.make(new Uint8Array(40), new Uint8Array(8)).pipe(Framing.decodeFixed(16))
 * ```
 *
 * @category decoding
 * @since 0.1.0
 */
export const decodeFixed: {
  (size: number): <E, R>(self: Stream.Stream<Uint8Array, E, R>) => Stream.Stream<Uint8Array, E | FramingError, R>
  <E, R>(self: Stream.Stream<Uint8Array, E, R>, size: number): Stream.Stream<Uint8Array, E | FramingError, R>
} = dual(2, <E, R>(self: Stream.Stream<Uint8Array, E, R>, size: number) => {
  const checked = checkSize("size", size, 1)
  return framed(self, checked instanceof FramingError ? checked : () => decoding(new FixedDecoder(checked)))
})

/**
 * Decodes length-prefixed frames: a 1-, 2- or 4-byte unsigned length (big
 * endian by default), then that many bytes. A length beyond `maxFrameSize`
 * (default 1 MiB) fails with `FrameTooLarge` before its payload is buffered;
 * input ending inside a header or a payload fails with `Truncated`.
 *
 * @example
 * ```ts
 * import { Framing, Socket } from "@sluice/core"
 * import { Stream } from "effect"
 *
 * declare const socket: Socket.Socket
 * const frames = socket.reads.pipe(Framing.decodeLengthPrefixed({ headerSize: 2, maxFrameSize: 4096 }))
 * ```
 *
 * @category decoding
 * @since 0.1.0
 */
export const decodeLengthPrefixed: {
  (
    options?: LengthPrefixOptions
  ): <E, R>(self: Stream.Stream<Uint8Array, E, R>) => Stream.Stream<Uint8Array, E | FramingError, R>
  <E, R>(
    self: Stream.Stream<Uint8Array, E, R>,
    options?: LengthPrefixOptions
  ): Stream.Stream<Uint8Array, E | FramingError, R>
} = dual(isStreamFirst, <E, R>(self: Stream.Stream<Uint8Array, E, R>, options?: LengthPrefixOptions) => {
  const o = lengthPrefixOf(options)
  return framed(
    self,
    o instanceof FramingError
      ? o
      : () => decoding(new LengthPrefixedDecoder(o.headerSize, o.littleEndian, o.maxFrameSize))
  )
})

/**
 * Decodes frames ended by a delimiter (not part of the frame). More than
 * `maxFrameSize` bytes (default 64 KiB) without a delimiter fail with
 * `FrameTooLarge` as soon as they arrive; bytes after the last delimiter at
 * the end fail with `Truncated` (or are a last frame, with `trailing: "emit"`).
 *
 * @example
 * ```ts
 * import { Framing, Socket } from "@sluice/core"
 *
 * declare const socket: Socket.Socket
 * // NUL-terminated messages
 * const messages = socket.reads.pipe(Framing.decodeDelimited({ delimiter: new Uint8Array([0]) }))
 * ```
 *
 * @category decoding
 * @since 0.1.0
 */
export const decodeDelimited: {
  (
    options: DelimiterOptions
  ): <E, R>(self: Stream.Stream<Uint8Array, E, R>) => Stream.Stream<Uint8Array, E | FramingError, R>
  <E, R>(
    self: Stream.Stream<Uint8Array, E, R>,
    options: DelimiterOptions
  ): Stream.Stream<Uint8Array, E | FramingError, R>
} = dual(2, <E, R>(self: Stream.Stream<Uint8Array, E, R>, options: DelimiterOptions) => {
  const o = delimitedOf(options)
  return framed(
    self,
    o instanceof FramingError ? o : () => decoding(new DelimitedDecoder(o.delimiter, o.maxFrameSize, o.trailing))
  )
})

/**
 * Decodes lines ended by `\n` or `\r\n` (the terminator is not part of the
 * line), as bytes: decode them with a `TextDecoder` where text is meant. A
 * line longer than `maxFrameSize` (default 64 KiB) fails with
 * `FrameTooLarge` as soon as it is known; bytes after the last terminator at
 * the end fail with `Truncated` (or are a last line, with `trailing: "emit"`).
 *
 * @example
 * ```ts
 * import { Framing, Socket } from "@sluice/core"
 * import { Stream } from "effect"
 *
 * declare const socket: Socket.Socket
 * const decoder = new TextDecoder()
 * const lines = socket.reads.pipe(Framing.decodeLines(), Stream.map((line) => decoder.decode(line)))
 * ```
 *
 * @category decoding
 * @since 0.1.0
 */
export const decodeLines: {
  (
    options?: LineOptions
  ): <E, R>(self: Stream.Stream<Uint8Array, E, R>) => Stream.Stream<Uint8Array, E | FramingError, R>
  <E, R>(self: Stream.Stream<Uint8Array, E, R>, options?: LineOptions): Stream.Stream<Uint8Array, E | FramingError, R>
} = dual(isStreamFirst, <E, R>(self: Stream.Stream<Uint8Array, E, R>, options?: LineOptions) => {
  const o = linesOf(options)
  return framed(self, o instanceof FramingError ? o : () => decoding(new LineDecoder(o.maxFrameSize, o.trailing)))
})

// ---------------------------------------------------------------------------
// encoders
// ---------------------------------------------------------------------------

const lengthHeader = (o: LengthPrefix, frame: Uint8Array): Uint8Array | FrameProblem => {
  const length = frame.length
  if (length > o.maxFrameSize) {
    return {
      reason: "FrameTooLarge",
      detail: `a frame of ${length} bytes exceeds maxFrameSize (${o.maxFrameSize})`,
      frameSize: length,
      maxFrameSize: o.maxFrameSize
    }
  }
  const header = new Uint8Array(o.headerSize)
  let value = length
  for (let i = 0; i < o.headerSize; i++) {
    header[o.littleEndian ? i : o.headerSize - 1 - i] = value & 0xff
    value = Math.floor(value / 256)
  }
  return header
}

/**
 * Encodes each frame as its length header followed by the frame (two chunks:
 * the frame is not copied; a socket's `writes` sends them as one vectored
 * write). A frame beyond `maxFrameSize` fails with `FrameTooLarge`, after the
 * frames before it. The options are those of {@link decodeLengthPrefixed}.
 *
 * @example
 * ```ts
 * import { Framing, Socket } from "@sluice/core"
 * import { Stream } from "effect"
 *
 * declare const socket: Socket.Socket
 * declare const messages: Stream.Stream<Uint8Array>
 * const sending = messages.pipe(Framing.encodeLengthPrefixed(), Stream.run(socket.writes))
 * ```
 *
 * @category encoding
 * @since 0.1.0
 */
export const encodeLengthPrefixed: {
  (
    options?: LengthPrefixOptions
  ): <E, R>(self: Stream.Stream<Uint8Array, E, R>) => Stream.Stream<Uint8Array, E | FramingError, R>
  <E, R>(
    self: Stream.Stream<Uint8Array, E, R>,
    options?: LengthPrefixOptions
  ): Stream.Stream<Uint8Array, E | FramingError, R>
} = dual(isStreamFirst, <E, R>(self: Stream.Stream<Uint8Array, E, R>, options?: LengthPrefixOptions) => {
  const o = lengthPrefixOf(options)
  return framed(
    self,
    o instanceof FramingError ? o : () =>
      encoding((frame, out) => {
        const header = lengthHeader(o, frame)
        if (isProblem(header)) return header
        out.push(header)
        if (frame.length > 0) out.push(frame)
        return undefined
      })
  )
})

/**
 * One length-prefixed frame, as the chunks to hand to `socket.writeAll`: the
 * header, then the frame (not copied).
 *
 * @example
 * ```ts
 * import { Framing, Socket } from "@sluice/core"
 * import { Effect } from "effect"
 *
 * declare const socket: Socket.Socket
 * const send = (frame: Uint8Array) =>
 *   Effect.flatMap(Framing.lengthPrefix(frame, { headerSize: 2 }), socket.writeAll)
 * ```
 *
 * @category encoding
 * @since 0.1.0
 */
export const lengthPrefix = (
  frame: Uint8Array,
  options?: LengthPrefixOptions
): Effect.Effect<NonEmptyReadonlyArray<Uint8Array>, FramingError> => {
  const o = lengthPrefixOf(options)
  if (o instanceof FramingError) return Effect.fail(o)
  const header = lengthHeader(o, frame)
  return isProblem(header) ? Effect.fail(fromProblem(header)) : Effect.succeed([header, frame])
}

/**
 * The first position where `delimiter` occurs in `frame` followed by
 * `delimiter`, or -1 when that is `frame.length` (the frame decodes back
 * whole).
 */
const earlyDelimiter = (frame: Uint8Array, delimiter: Uint8Array): number => {
  const d = delimiter.length
  const first = delimiter[0]!
  for (let at = frame.indexOf(first); at >= 0 && at < frame.length; at = frame.indexOf(first, at + 1)) {
    let j = 0
    while (j < d) {
      const i = at + j
      const byte = i < frame.length ? frame[i] : delimiter[i - frame.length]
      if (byte !== delimiter[j]) break
      j++
    }
    if (j === d) return at
  }
  return -1
}

/**
 * Encodes each frame followed by the delimiter. A frame in which the
 * delimiter occurs (it would not decode back whole) fails with
 * `InvalidFrame`, one beyond `maxFrameSize` with `FrameTooLarge`, after the
 * frames before it. The options are those of {@link decodeDelimited}
 * (`trailing` is not used).
 *
 * @category encoding
 * @since 0.1.0
 */
export const encodeDelimited: {
  (
    options: DelimiterOptions
  ): <E, R>(self: Stream.Stream<Uint8Array, E, R>) => Stream.Stream<Uint8Array, E | FramingError, R>
  <E, R>(
    self: Stream.Stream<Uint8Array, E, R>,
    options: DelimiterOptions
  ): Stream.Stream<Uint8Array, E | FramingError, R>
} = dual(2, <E, R>(self: Stream.Stream<Uint8Array, E, R>, options: DelimiterOptions) => {
  const o = delimitedOf(options)
  return framed(
    self,
    o instanceof FramingError ? o : () =>
      encoding((frame, out) => {
        if (frame.length > o.maxFrameSize) return encodeTooLarge(frame.length, o.maxFrameSize)
        const at = earlyDelimiter(frame, o.delimiter)
        if (at >= 0) {
          return {
            reason: "InvalidFrame",
            detail: `the delimiter occurs at byte ${at} of a ${frame.length}-byte frame`,
            frameSize: frame.length
          }
        }
        if (frame.length > 0) out.push(frame)
        out.push(o.delimiter)
        return undefined
      })
  )
})

const encodeTooLarge = (frameSize: number, maxFrameSize: number): FrameProblem => ({
  reason: "FrameTooLarge",
  detail: `a frame of ${frameSize} bytes exceeds maxFrameSize (${maxFrameSize})`,
  frameSize,
  maxFrameSize
})

const LF = encodeUtf8("\n")
const CRLF = encodeUtf8("\r\n")

const lineEncodeOf = (options: unknown): { readonly end: Uint8Array; readonly max: number } | FramingError => {
  const o = optionsOf(options, readLineEncode)
  if (o instanceof FramingError) return o
  return { end: o.terminator === "\r\n" ? CRLF : LF, max: o.maxFrameSize ?? defaultMaxLine }
}

/**
 * Encodes each line followed by `\n` (or `\r\n`). A line holding a `\n`, or
 * ending with `\r` when the terminator is `\n` (it would not decode back
 * whole), fails with `InvalidFrame`; one beyond `maxFrameSize` with
 * `FrameTooLarge`, after the lines before it.
 *
 * @category encoding
 * @since 0.1.0
 */
export const encodeLines: {
  (
    options?: LineEncodeOptions
  ): <E, R>(self: Stream.Stream<Uint8Array, E, R>) => Stream.Stream<Uint8Array, E | FramingError, R>
  <E, R>(
    self: Stream.Stream<Uint8Array, E, R>,
    options?: LineEncodeOptions
  ): Stream.Stream<Uint8Array, E | FramingError, R>
} = dual(isStreamFirst, <E, R>(self: Stream.Stream<Uint8Array, E, R>, options?: LineEncodeOptions) => {
  const o = lineEncodeOf(options)
  if (o instanceof FramingError) return framed(self, o)
  const { end, max } = o
  return framed(self, () =>
    encoding((line, out) => {
      if (line.length > max) return encodeTooLarge(line.length, max)
      const lf = line.indexOf(10)
      const bad = lf >= 0 ? lf : end === LF && line.length > 0 && line[line.length - 1] === 13 ? line.length - 1 : -1
      if (bad >= 0) {
        return {
          reason: "InvalidFrame",
          detail: `a line terminator occurs at byte ${bad} of a ${line.length}-byte line`,
          frameSize: line.length
        }
      }
      if (line.length > 0) out.push(line)
      out.push(end)
      return undefined
    }))
})

// ---------------------------------------------------------------------------
// Reader
// ---------------------------------------------------------------------------

/**
 * Reads one frame at a time from a byte source, for protocols that mix frame
 * kinds: a header of N bytes, a line, a length-prefixed body. Bytes read
 * ahead stay in the reader for the next read, and {@link Reader.rest} hands
 * them on, followed by the rest of the source.
 *
 * **Details**
 *
 * Each read fails with `Truncated` when the input ends before the whole frame
 * (also when it ends before the frame's first byte: a read asks for a frame).
 * A read that fails takes nothing: the bytes it saw stay for the next read.
 * Decode a sequence of frames that may end cleanly with the stream decoders,
 * over {@link Reader.rest}. One read at a time; the reader is the source's
 * single consumer.
 *
 * @example
 * ```ts
 * import { Framing, Socket } from "@sluice/core"
 * import { Effect } from "effect"
 *
 * declare const socket: Socket.Socket
 * // a 4-byte magic number, then a line, then lines until the peer ends
 * const session = Effect.gen(function*() {
 *   const reader = Framing.reader(socket.pull)
 *   const magic = yield* reader.readExactly(4)
 *   const hello = yield* reader.readLine({ maxFrameSize: 256 })
 *   return { magic, hello, lines: reader.rest.pipe(Framing.decodeLines()) }
 * })
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface Reader<E> {
  /** Exactly `n` bytes (an integer ≥ 0): fs2's `readN`, failing with `Truncated` at an early end. */
  readonly readExactly: (n: number) => Effect.Effect<Uint8Array, E | FramingError>
  /** One length-prefixed frame's payload (see {@link decodeLengthPrefixed}). */
  readonly readLengthPrefixed: (options?: LengthPrefixOptions) => Effect.Effect<Uint8Array, E | FramingError>
  /** One delimited frame, without its delimiter (see {@link decodeDelimited}). */
  readonly readDelimited: (options: DelimiterOptions) => Effect.Effect<Uint8Array, E | FramingError>
  /** One line, without its terminator (see {@link decodeLines}). */
  readonly readLine: (options?: LineOptions) => Effect.Effect<Uint8Array, E | FramingError>
  /** Bytes read ahead and not handed out yet. */
  readonly buffered: number
  /** The bytes read ahead, then the rest of the source: pull it once, after the last read. */
  readonly rest: Stream.Stream<Uint8Array, E>
}

class ReaderImpl<E> implements Reader<E> {
  private readonly queue = new ByteQueue()
  private ended = false
  private readonly source: Pull.Pull<NonEmptyReadonlyArray<Uint8Array>, E>
  private readonly more: Effect.Effect<void, E>
  constructor(source: Pull.Pull<NonEmptyReadonlyArray<Uint8Array>, E>) {
    this.source = source
    this.more = Effect.catchIf(
      Effect.map(source, (chunks) => {
        for (let i = 0; i < chunks.length; i++) this.queue.push(chunks[i]!)
      }),
      Cause.isDone,
      () =>
        Effect.sync(() => {
          this.ended = true
        })
    )
  }

  get buffered(): number {
    return this.queue.size
  }

  private read(decoder: FrameDecoder | FramingError): Effect.Effect<Uint8Array, E | FramingError> {
    if (decoder instanceof FramingError) return Effect.fail(decoder)
    const queue = this.queue
    const loop: Effect.Effect<Uint8Array, E | FramingError> = Effect.suspend(() => {
      const frame = decoder.next(queue)
      if (frame !== undefined) return isProblem(frame) ? Effect.fail(fromProblem(frame)) : Effect.succeed(frame)
      if (!this.ended) return Effect.andThen(this.more, loop)
      const last = decoder.end(queue)
      if (last === undefined) {
        return Effect.fail(
          new FramingError({ reason: "Truncated", detail: "the input ended before the frame", received: 0 })
        )
      }
      return isProblem(last) ? Effect.fail(fromProblem(last)) : Effect.succeed(last)
    })
    return loop
  }

  readonly readExactly = (n: number) => {
    const size = checkSize("n", n, 0)
    if (size instanceof FramingError) return Effect.fail(size)
    return this.read(new FixedDecoder(size))
  }

  readonly readLengthPrefixed = (options?: LengthPrefixOptions) => {
    const o = lengthPrefixOf(options)
    return this.read(
      o instanceof FramingError ? o : new LengthPrefixedDecoder(o.headerSize, o.littleEndian, o.maxFrameSize)
    )
  }

  readonly readDelimited = (options: DelimiterOptions) => {
    const o = delimitedOf(options)
    return this.read(o instanceof FramingError ? o : new DelimitedDecoder(o.delimiter, o.maxFrameSize, o.trailing))
  }

  readonly readLine = (options?: LineOptions) => {
    const o = linesOf(options)
    return this.read(o instanceof FramingError ? o : new LineDecoder(o.maxFrameSize, o.trailing))
  }

  get rest(): Stream.Stream<Uint8Array, E> {
    const pull: Pull.Pull<NonEmptyReadonlyArray<Uint8Array>, E> = Effect.suspend(() => {
      if (this.queue.size > 0) return Effect.succeed(this.queue.drain() as unknown as NonEmptyReadonlyArray<Uint8Array>)
      return this.ended ? Cause.done() : this.source
    })
    return Stream.fromPull(Effect.succeed(pull))
  }
}

/**
 * A {@link Reader} over a pull of byte batches — a socket's `pull`, or a
 * `Stream.toPull` of any byte stream (see {@link readerFromStream}).
 *
 * @category constructors
 * @since 0.1.0
 */
export const reader = <E>(pull: Pull.Pull<NonEmptyReadonlyArray<Uint8Array>, E>): Reader<E> => new ReaderImpl(pull)

/**
 * A {@link Reader} over any byte stream; the stream runs in the current scope.
 *
 * @category constructors
 * @since 0.1.0
 */
export const readerFromStream = <E, R>(
  stream: Stream.Stream<Uint8Array, E, R>
): Effect.Effect<Reader<E>, never, R | Scope.Scope> => Effect.map(Stream.toPull(stream), reader)
