/**
 * Framing over plain byte streams: encode/decode round trips under any
 * slicing and batching (fast-check), decoders against naive reference
 * splitters, slicing-invariant errors, the copy rule (a frame in one chunk is
 * a view, a frame across chunks is assembled once), early detection of
 * oversize frames, backpressure, the Reader, and a sweep of bad options.
 * The same decoders over real and memory sockets: `FramingSockets.test.ts`.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Framing from "@sluice/core/Framing"
import type { NonEmptyReadonlyArray } from "effect/Array"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Stream from "effect/Stream"
import * as fc from "fast-check"

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s)
const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("")

const concat = (chunks: ReadonlyArray<Uint8Array>): Uint8Array => {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0))
  let at = 0
  for (const c of chunks) {
    out.set(c, at)
    at += c.length
  }
  return out
}

/** `bytes` cut at the given piece sizes (cycled), as chunks. */
const slice = (bytes: Uint8Array, sizes: ReadonlyArray<number>): Array<Uint8Array> => {
  const out: Array<Uint8Array> = []
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const n = Math.max(1, sizes[i % sizes.length]!)
    out.push(bytes.slice(at, at + n))
    at += n
  }
  return out
}

/** A stream of the chunks, in batches of `batch` chunks. */
const source = (chunks: ReadonlyArray<Uint8Array>, batch: number) => Stream.fromIterable(chunks, { chunkSize: batch })

interface Outcome {
  readonly frames: ReadonlyArray<string>
  readonly error: string | undefined
}

/** Runs a decoding stream to its end: the frames (as hex) and the error's reason, if any. */
const outcome = (stream: Stream.Stream<Uint8Array, Framing.FramingError>): Outcome => {
  const frames: Array<string> = []
  const exit = Effect.runSyncExit(Stream.runForEach(stream, (f) => Effect.sync(() => frames.push(hex(f)))))
  if (Exit.isSuccess(exit)) return { frames, error: undefined }
  const error = exit.cause.reasons.find(Cause.isFailReason)?.error
  if (!(error instanceof Framing.FramingError)) throw new Error(`not a FramingError: ${Cause.pretty(exit.cause)}`)
  return { frames, error: error.reason }
}

const collect = <E>(stream: Stream.Stream<Uint8Array, E>) => Effect.runSync(Stream.runCollect(stream))

const failure = <A>(effect: Effect.Effect<A, Framing.FramingError>): Framing.FramingError =>
  Effect.runSync(Effect.flip(effect))

const streamFailure = (stream: Stream.Stream<unknown, Framing.FramingError>): Framing.FramingError =>
  failure(Stream.runDrain(stream))

const bytes = (max = 300) => fc.uint8Array({ maxLength: max })
const sizes = fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 8 })
const batch = fc.integer({ min: 1, max: 5 })
/** Bytes from a small alphabet, so that delimiters and their prefixes occur often. */
const denseBytes = fc.array(fc.constantFrom(0, 10, 13, 97, 98), { maxLength: 200 }).map((a) => Uint8Array.from(a))

const lengthOptions = fc.record({
  headerSize: fc.constantFrom(1 as const, 2 as const, 4 as const),
  endian: fc.constantFrom("big" as const, "little" as const)
})

describe("Framing round trips (fast-check)", () => {
  it("length-prefixed: decode(encode(frames)) = frames, whatever the slicing and batching", () => {
    fc.assert(
      fc.property(fc.array(bytes(), { maxLength: 20 }), lengthOptions, sizes, batch, (frames, options, cuts, b) => {
        const wire = concat(collect(Stream.fromIterable(frames).pipe(Framing.encodeLengthPrefixed(options))))
        assert.strictEqual(wire.length, frames.reduce((n, f) => n + options.headerSize + f.length, 0))
        const decoded = collect(source(slice(wire, cuts), b).pipe(Framing.decodeLengthPrefixed(options)))
        assert.deepStrictEqual(decoded.map(hex), frames.map(hex))
      })
    )
  })

  it("length-prefixed: the header is the length, in the byte order asked", () => {
    const [big] = collect(Stream.make(new Uint8Array(0x0102)).pipe(Framing.encodeLengthPrefixed({ headerSize: 2 })))
    const [little] = collect(
      Stream.make(new Uint8Array(0x0102)).pipe(Framing.encodeLengthPrefixed({ headerSize: 4, endian: "little" }))
    )
    assert.strictEqual(hex(big!), "0102")
    assert.strictEqual(hex(little!), "02010000")
  })

  it("delimited: decode(encode(frames)) = frames, for any delimiter, slicing and batching", () => {
    const delimiter = fc.uint8Array({ minLength: 1, maxLength: 4 })
    fc.assert(
      fc.property(fc.array(denseBytes, { maxLength: 15 }), delimiter, sizes, batch, (frames, d, cuts, b) => {
        const encoded = Effect.runSyncExit(
          Stream.runCollect(Stream.fromIterable(frames).pipe(Framing.encodeDelimited({ delimiter: d })))
        )
        // a frame the delimiter occurs in cannot be sent: the encoder refuses it (checked below)
        fc.pre(Exit.isSuccess(encoded))
        if (!Exit.isSuccess(encoded)) return
        const decoded = collect(
          source(slice(concat(encoded.value), cuts), b).pipe(Framing.decodeDelimited({ delimiter: d }))
        )
        assert.deepStrictEqual(decoded.map(hex), frames.map(hex))
      })
    )
  })

  it("lines: decode(encode(lines)) = lines with either terminator", () => {
    const line = fc.string({ maxLength: 40 }).map((s) => utf8(s.replace(/[\r\n]/g, "")))
    fc.assert(
      fc.property(fc.array(line, { maxLength: 20 }), fc.constantFrom("\n" as const, "\r\n" as const), sizes, batch, (
        lines,
        terminator,
        cuts,
        b
      ) => {
        const wire = concat(collect(Stream.fromIterable(lines).pipe(Framing.encodeLines({ terminator }))))
        const decoded = collect(source(slice(wire, cuts), b).pipe(Framing.decodeLines()))
        assert.deepStrictEqual(decoded.map(hex), lines.map(hex))
      })
    )
  })

  it("fixed: frames of exactly `size` bytes, whatever the slicing", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 0, max: 30 }), sizes, batch, (size, n, cuts, b) => {
        const wire = Uint8Array.from({ length: size * n }, (_, i) => i & 0xff)
        const decoded = collect(source(slice(wire, cuts), b).pipe(Framing.decodeFixed(size)))
        assert.strictEqual(decoded.length, n)
        assert.deepStrictEqual(
          decoded.map(hex),
          Array.from({ length: n }, (_, i) => hex(wire.subarray(i * size, (i + 1) * size)))
        )
      })
    )
  })
})

/** Splits `bytes` at every non-overlapping occurrence of `d`, left to right: the frames and what follows the last. */
const referenceSplit = (input: Uint8Array, d: Uint8Array): { frames: Array<Uint8Array>; rest: Uint8Array } => {
  const frames: Array<Uint8Array> = []
  let start = 0
  for (let i = 0; i + d.length <= input.length;) {
    if (d.every((x, j) => input[i + j] === x)) {
      frames.push(input.slice(start, i))
      i += d.length
      start = i
    } else i++
  }
  return { frames, rest: input.slice(start) }
}

describe("Framing decoders against reference splitters (fast-check)", () => {
  it("delimited, on arbitrary bytes: the naive split, whatever the slicing", () => {
    const delimiter = fc.array(fc.constantFrom(10, 13, 97), { minLength: 1, maxLength: 3 }).map((a) =>
      Uint8Array.from(a)
    )
    fc.assert(
      fc.property(denseBytes, delimiter, sizes, batch, (input, d, cuts, b) => {
        const { frames, rest } = referenceSplit(input, d)
        const got = outcome(
          source(slice(input, cuts), b).pipe(Framing.decodeDelimited({ delimiter: d, trailing: "emit" }))
        )
        const expected = rest.length > 0 ? [...frames, rest] : frames
        assert.deepStrictEqual(got, { frames: expected.map(hex), error: undefined })
      })
    )
  })

  it("lines, on arbitrary bytes: split at \\n, one \\r before it dropped, whatever the slicing", () => {
    fc.assert(
      fc.property(denseBytes, sizes, batch, (input, cuts, b) => {
        const { frames, rest } = referenceSplit(input, Uint8Array.of(10))
        const lines = frames.map((f) => (f.length > 0 && f[f.length - 1] === 13 ? f.subarray(0, f.length - 1) : f))
        const got = outcome(source(slice(input, cuts), b).pipe(Framing.decodeLines({ trailing: "emit" })))
        const expected = rest.length > 0 ? [...lines, rest] : lines
        assert.deepStrictEqual(got, { frames: expected.map(hex), error: undefined })
      })
    )
  })

  it("errors do not depend on slicing: the same frames, then the same error, as from one chunk", () => {
    const max = fc.integer({ min: 0, max: 12 })
    const trailing = fc.constantFrom("error" as const, "emit" as const)
    fc.assert(
      fc.property(denseBytes, max, trailing, sizes, batch, (input, maxFrameSize, t, cuts, b) => {
        const decoders = [
          Framing.decodeLines({ maxFrameSize, trailing: t }),
          Framing.decodeDelimited({ delimiter: "ab", maxFrameSize, trailing: t }),
          Framing.decodeLengthPrefixed({ headerSize: 1, maxFrameSize: maxFrameSize * 10 }),
          Framing.decodeFixed(maxFrameSize + 1)
        ]
        for (const decode of decoders) {
          const whole = outcome(Stream.make(input).pipe(decode))
          const sliced = outcome(source(slice(input, cuts), b).pipe(decode))
          assert.deepStrictEqual(sliced, whole)
        }
      })
    )
  })
})

describe("Framing copies no more than a frame", () => {
  it("frames inside one chunk are views of it; a frame across chunks is one exact-size copy", () => {
    const chunk = utf8("one\ntwo\nthr")
    const lines = collect(Stream.make(chunk, utf8("ee\n")).pipe(Framing.decodeLines()))
    assert.deepStrictEqual(lines.map((l) => new TextDecoder().decode(l)), ["one", "two", "three"])
    assert.strictEqual(lines[0]!.buffer, chunk.buffer)
    assert.strictEqual(lines[1]!.buffer, chunk.buffer)
    assert.strictEqual(lines[1]!.byteOffset, 4)
    assert.notStrictEqual(lines[2]!.buffer, chunk.buffer)
    assert.strictEqual(lines[2]!.buffer.byteLength, 5)

    const wire = concat(collect(Stream.make(utf8("abc"), utf8("defgh")).pipe(Framing.encodeLengthPrefixed())))
    const frames = collect(Stream.make(wire.subarray(0, 13), wire.subarray(13)).pipe(Framing.decodeLengthPrefixed()))
    assert.strictEqual(frames[0]!.buffer, wire.buffer) // "abc" lies in the first chunk
    assert.strictEqual(frames[1]!.buffer.byteLength, 5) // "defgh" spans both: assembled once
  })

  it("the length-prefixed encoder does not copy the frame", () => {
    const frame = utf8("payload")
    const [header, body] = collect(Stream.make(frame).pipe(Framing.encodeLengthPrefixed({ headerSize: 1 })))
    assert.strictEqual(hex(header!), "07")
    assert.strictEqual(body, frame)
  })

  it("many frames in one chunk, one frame in many one-byte chunks", () => {
    const frames = Array.from({ length: 2000 }, (_, i) => utf8(`frame ${i}`))
    const wire = concat(collect(Stream.fromIterable(frames).pipe(Framing.encodeLengthPrefixed({ headerSize: 2 }))))
    const decoded = collect(Stream.make(wire).pipe(Framing.decodeLengthPrefixed({ headerSize: 2 })))
    assert.strictEqual(decoded.length, 2000)
    assert.isTrue(decoded.every((f) => f.buffer === wire.buffer))

    const big = Uint8Array.from({ length: 50_000 }, (_, i) => 97 + (i % 26))
    const ones = slice(concat([big, utf8("\n")]), [1])
    const [line] = collect(Stream.fromIterable(ones).pipe(Framing.decodeLines({ maxFrameSize: 50_000 })))
    assert.strictEqual(hex(line!), hex(big))
  })
})

/** A source of `chunk` forever, one chunk per pull, counting the bytes it produced. */
const endless = (chunk: Uint8Array) => {
  const counter = { bytes: 0, pulls: 0 }
  const pull = Effect.sync((): NonEmptyReadonlyArray<Uint8Array> => {
    counter.pulls++
    counter.bytes += chunk.length
    return [chunk]
  })
  return { stream: Stream.fromPull(Effect.succeed(pull)), counter }
}

describe("Framing bad frames", () => {
  it("a length header beyond maxFrameSize fails at once, after the frames before it, without waiting for its payload", () => {
    const header = Uint8Array.of(0xff, 0xff, 0xff, 0xff)
    const good = Uint8Array.of(0, 0, 0, 1, 42)
    const { stream, counter } = endless(new Uint8Array(1024))
    const frames: Array<string> = []
    const error = failure(
      Stream.concat(Stream.make(good, header), stream).pipe(
        Framing.decodeLengthPrefixed(),
        Stream.runForEach((f) => Effect.sync(() => frames.push(hex(f))))
      )
    )
    assert.deepStrictEqual(frames, ["2a"])
    assert.strictEqual(error.reason, "FrameTooLarge")
    assert.strictEqual(error.frameSize, 0xffff_ffff)
    assert.strictEqual(error.maxFrameSize, 1024 * 1024)
    assert.strictEqual(counter.pulls, 0)
    assert.include(error.message, "4294967295 bytes exceeds maxFrameSize (1048576)")
  })

  it("bytes without a delimiter fail once more than maxFrameSize arrived: a peer cannot make the decoder buffer without bound", () => {
    for (
      const decode of [
        Framing.decodeLines({ maxFrameSize: 10_000 }),
        Framing.decodeDelimited({ delimiter: "\r\n\r\n", maxFrameSize: 10_000 })
      ]
    ) {
      const { stream, counter } = endless(utf8("x".repeat(100)))
      const error = streamFailure(stream.pipe(decode))
      assert.strictEqual(error.reason, "FrameTooLarge")
      assert.strictEqual(error.maxFrameSize, 10_000)
      assert.isAtMost(counter.bytes, 10_000 + 100 + 3)
      assert.isAtLeast(counter.bytes, 10_000)
    }
  })

  it("a line of exactly maxFrameSize passes with \\n and with \\r\\n, one byte more fails", () => {
    const decode = Framing.decodeLines({ maxFrameSize: 4 })
    for (const wire of ["abcd\n", "abcd\r\n"]) {
      assert.deepStrictEqual(outcome(source(slice(utf8(wire), [1]), 1).pipe(decode)), {
        frames: [hex(utf8("abcd"))],
        error: undefined
      })
    }
    assert.deepStrictEqual(outcome(Stream.make(utf8("abcde\n")).pipe(decode)), { frames: [], error: "FrameTooLarge" })
    assert.deepStrictEqual(outcome(source(slice(utf8("abcde\n"), [1]), 1).pipe(decode)), {
      frames: [],
      error: "FrameTooLarge"
    })
  })

  it("input ending inside a frame fails with Truncated, saying how much arrived", () => {
    const inHeader = streamFailure(Stream.make(Uint8Array.of(0, 0)).pipe(Framing.decodeLengthPrefixed()))
    assert.strictEqual(inHeader.reason, "Truncated")
    assert.strictEqual(inHeader.received, 2)
    assert.include(inHeader.message, "2 bytes into a 4-byte length header")

    const inPayload = streamFailure(
      Stream.make(Uint8Array.of(0, 5, 1, 2)).pipe(Framing.decodeLengthPrefixed({ headerSize: 2 }))
    )
    assert.deepInclude(inPayload, { reason: "Truncated", frameSize: 5, received: 2 })

    const line = streamFailure(Stream.make(utf8("a\nno end")).pipe(Framing.decodeLines()))
    assert.deepInclude(line, { reason: "Truncated", received: 6 })

    const fixed = streamFailure(Stream.make(new Uint8Array(7)).pipe(Framing.decodeFixed(3)))
    assert.deepInclude(fixed, { reason: "Truncated", frameSize: 3, received: 1 })

    // a clean end between frames is no error; trailing: "emit" hands out the rest
    assert.strictEqual(
      collect(Stream.make(Uint8Array.of(0, 0)).pipe(Framing.decodeLengthPrefixed({ headerSize: 2 }))).length,
      1
    )
    assert.deepStrictEqual(
      collect(Stream.make(utf8("a\nlast")).pipe(Framing.decodeLines({ trailing: "emit" }))).map(hex),
      [hex(utf8("a")), hex(utf8("last"))]
    )
  })

  it("encoders refuse frames that would not decode back whole", () => {
    const tooBig = streamFailure(
      Stream.make(new Uint8Array(3), new Uint8Array(256)).pipe(
        Framing.encodeLengthPrefixed({ headerSize: 1 })
      )
    )
    assert.deepInclude(tooBig, { reason: "FrameTooLarge", frameSize: 256, maxFrameSize: 255 })
    const overMax = Effect.runSync(Effect.flip(Framing.lengthPrefix(new Uint8Array(11), { maxFrameSize: 10 })))
    assert.strictEqual(overMax.reason, "FrameTooLarge")

    // the delimiter inside, or overlapping the frame's end ("xa" + "aa" would decode as "x")
    for (const [frame, delimiter] of [["a,b", ","], ["xa", "aa"], ["ab", "aba"]] as const) {
      const error = streamFailure(Stream.make(utf8(frame)).pipe(Framing.encodeDelimited({ delimiter })))
      assert.strictEqual(error.reason, "InvalidFrame", `${frame} / ${delimiter}`)
    }
    assert.strictEqual(streamFailure(Stream.make(utf8("a\nb")).pipe(Framing.encodeLines())).reason, "InvalidFrame")
    assert.strictEqual(streamFailure(Stream.make(utf8("a\r")).pipe(Framing.encodeLines())).reason, "InvalidFrame")
    assert.deepStrictEqual(
      collect(Stream.make(utf8("a\r")).pipe(Framing.encodeLines({ terminator: "\r\n" }))).map(hex),
      [hex(utf8("a\r")), hex(utf8("\r\n"))]
    )
    // frames before the bad one are encoded
    const out: Array<string> = []
    const error = failure(
      Stream.make(utf8("ok"), utf8("bad\n")).pipe(
        Framing.encodeLines(),
        Stream.runForEach((c) => Effect.sync(() => out.push(hex(c))))
      )
    )
    assert.strictEqual(error.reason, "InvalidFrame")
    assert.deepStrictEqual(out, [hex(utf8("ok")), hex(utf8("\n"))])
  })
})

describe("Framing backpressure", () => {
  it("decoders pull the bytes below only as the frames above are pulled", () => {
    const { stream, counter } = endless(utf8("line\n".repeat(4)))
    const lines = collect(stream.pipe(Framing.decodeLines(), Stream.take(10)))
    assert.strictEqual(lines.length, 10)
    assert.strictEqual(counter.pulls, 3) // 4 lines per chunk: 3 chunks for 10 lines
  })
})

describe("Framing.Reader", () => {
  const chunks = (...parts: ReadonlyArray<string>) => parts.map(utf8)

  it.effect("reads exactly N bytes across chunks, then a line, a length-prefixed frame, and hands on the rest", () =>
    Effect.gen(function*() {
      const reader = yield* Framing.readerFromStream(
        Stream.fromIterable(chunks("MA", "G", "IChello\r", "\n\u0000\u0003ab", "cthe", " rest\nmore\n"), {
          chunkSize: 1
        })
      )
      assert.strictEqual(hex(yield* reader.readExactly(0)), "")
      assert.strictEqual(new TextDecoder().decode(yield* reader.readExactly(5)), "MAGIC")
      assert.strictEqual(new TextDecoder().decode(yield* reader.readLine()), "hello")
      assert.strictEqual(new TextDecoder().decode(yield* reader.readLengthPrefixed({ headerSize: 2 })), "abc")
      assert.strictEqual(new TextDecoder().decode(yield* reader.readDelimited({ delimiter: " " })), "the")
      assert.strictEqual(reader.buffered, 10) // "rest\nmore\n" read ahead
      const rest = yield* Stream.runCollect(reader.rest.pipe(Framing.decodeLines()))
      assert.deepStrictEqual(rest.map((l) => new TextDecoder().decode(l)), ["rest", "more"])
    }))

  it.effect("a read at an early end fails with Truncated (also with nothing left) and takes nothing", () =>
    Effect.gen(function*() {
      const reader = yield* Framing.readerFromStream(Stream.fromIterable(chunks("abc", "de")))
      const short = yield* Effect.flip(reader.readExactly(9))
      assert.deepInclude(short, { _tag: "FramingError", reason: "Truncated", frameSize: 9, received: 5 })
      assert.strictEqual(new TextDecoder().decode(yield* reader.readExactly(5)), "abcde")
      const nothing = yield* Effect.flip(reader.readExactly(1))
      assert.deepInclude(nothing, { reason: "Truncated", received: 0 })
      const line = yield* Effect.flip(reader.readLine())
      assert.strictEqual(line.reason, "Truncated")
    }))

  it.effect("a source failure reaches the read as it is", () =>
    Effect.gen(function*() {
      const reader = yield* Framing.readerFromStream(
        Stream.concat(Stream.make(utf8("ab")), Stream.fail("boom" as const))
      )
      const error = yield* Effect.flip(reader.readExactly(3))
      assert.strictEqual(error, "boom")
    }))
})

describe("Framing options read once", () => {
  it("a getter that throws is InvalidOptions naming the field; a getter runs once", () => {
    let reads = 0
    const options = {
      get maxFrameSize(): number {
        reads++
        return 3
      },
      get trailing(): "emit" {
        throw new Error("boom")
      }
    }
    const error = streamFailure(Stream.make(utf8("a\n")).pipe(Framing.decodeLines(options)))
    assert.strictEqual(error.reason, "InvalidOptions")
    assert.strictEqual(error.detail, "trailing: reading it threw Error: boom")
    assert.strictEqual(reads, 1)
  })
})

describe("Framing bad options (generated sweep)", () => {
  /** Values that are not what the field takes. */
  const not = (ok: (u: unknown) => boolean) => fc.anything().filter((u) => u !== undefined && !ok(u))
  const isMax = (u: unknown) => typeof u === "number" && Number.isSafeInteger(u) && u >= 0
  const cases: ReadonlyArray<
    readonly [string, fc.Arbitrary<unknown>, (bad: unknown) => Effect.Effect<unknown, Framing.FramingError>]
  > = [
    [
      "headerSize",
      not((u) => u === 1 || u === 2 || u === 4),
      (v) => Stream.runDrain(Stream.make(new Uint8Array(1)).pipe(Framing.decodeLengthPrefixed({ headerSize: v as 4 })))
    ],
    [
      "endian",
      not((u) => u === "big" || u === "little"),
      (v) => Stream.runDrain(Stream.make(new Uint8Array(1)).pipe(Framing.encodeLengthPrefixed({ endian: v as "big" })))
    ],
    [
      "maxFrameSize",
      not(isMax),
      (v) => Stream.runDrain(Stream.make(new Uint8Array(1)).pipe(Framing.decodeLines({ maxFrameSize: v as number })))
    ],
    ["maxFrameSize", not(isMax), (v) => Framing.lengthPrefix(new Uint8Array(1), { maxFrameSize: v as number })],
    [
      "delimiter",
      fc.anything().filter((u) => !(typeof u === "string" && u.length > 0)),
      (v) => Stream.runDrain(Stream.make(new Uint8Array(1)).pipe(Framing.decodeDelimited({ delimiter: v as string })))
    ],
    [
      "trailing",
      not((u) => u === "error" || u === "emit"),
      (v) => Stream.runDrain(Stream.make(new Uint8Array(1)).pipe(Framing.decodeLines({ trailing: v as "emit" })))
    ],
    [
      "terminator",
      not((u) => u === "\n" || u === "\r\n"),
      (v) => Stream.runDrain(Stream.make(new Uint8Array(1)).pipe(Framing.encodeLines({ terminator: v as "\n" })))
    ],
    [
      "size",
      not((u) => typeof u === "number" && Number.isSafeInteger(u) && u >= 1),
      (v) => Stream.runDrain(Stream.make(new Uint8Array(1)).pipe(Framing.decodeFixed(v as number)))
    ],
    ["n", not(isMax), (v) => Framing.reader<never>(Cause.done()).readExactly(v as number)],
    [
      "options",
      fc.anything().filter((u) => u !== undefined && (typeof u !== "object" || u === null)),
      (v) => Stream.runDrain(Stream.make(new Uint8Array(1)).pipe(Framing.decodeLines(v as Framing.LineOptions)))
    ]
  ]
  for (const [name, values, run] of cases) {
    it(`${name}: a typed InvalidOptions naming the field, never a defect`, () => {
      fc.assert(
        fc.property(values, (v) => {
          const exit = Effect.runSyncExit(run(v))
          assert.isTrue(Exit.isFailure(exit))
          if (Exit.isSuccess(exit)) return
          const error = exit.cause.reasons.find(Cause.isFailReason)?.error
          assert.instanceOf(error, Framing.FramingError, Cause.pretty(exit.cause))
          assert.strictEqual(error?.reason, "InvalidOptions")
          assert.isTrue(error?.detail.startsWith(`${name}: expected`), error?.detail)
        }),
        { numRuns: 60 }
      )
    })
  }
})
