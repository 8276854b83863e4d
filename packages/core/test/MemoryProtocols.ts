/**
 * Small realistic protocols for the fault tests: length-prefixed frames and an
 * HTTP/1.1-like request/response, with incremental decoders that must cope
 * with any slicing of the byte stream.
 */
import * as Socket from "@sluice/core/Socket"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/testing/TestClock"

/** A 4-byte big-endian length, then the payload. */
export const encodeFrame = (payload: Uint8Array): Uint8Array => {
  const out = new Uint8Array(4 + payload.length)
  new DataView(out.buffer).setUint32(0, payload.length)
  out.set(payload, 4)
  return out
}

/** Incremental decoder of length-prefixed frames. */
export class FrameDecoder {
  private buffer = new Uint8Array(0)
  /** Sizes of the chunks pushed so far (to show the slicing happened). */
  readonly chunkSizes: Array<number> = []
  push(chunk: Uint8Array): Array<Uint8Array> {
    this.chunkSizes.push(chunk.length)
    const joined = new Uint8Array(this.buffer.length + chunk.length)
    joined.set(this.buffer)
    joined.set(chunk, this.buffer.length)
    const frames: Array<Uint8Array> = []
    let offset = 0
    while (joined.length - offset >= 4) {
      const size = new DataView(joined.buffer, joined.byteOffset + offset).getUint32(0)
      if (joined.length - offset - 4 < size) break
      frames.push(joined.slice(offset + 4, offset + 4 + size))
      offset += 4 + size
    }
    this.buffer = joined.slice(offset)
    return frames
  }
  get pending(): number {
    return this.buffer.length
  }
}

/** Deterministic frames of assorted sizes (0 to `max` bytes). */
export const makeFrames = (count: number, max: number, seed = 1): Array<Uint8Array> => {
  let s = seed
  const next = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0)
  return Array.from({ length: count }, () => {
    const frame = new Uint8Array(next() % (max + 1))
    for (let i = 0; i < frame.length; i++) frame[i] = next() & 0xff
    return frame
  })
}

export const reversed = (frame: Uint8Array): Uint8Array => frame.toReversed()

/** Server handler: answers every frame with the frame reversed, until the peer ends. */
export const reverseFrames = (socket: Socket.Socket, decoder = new FrameDecoder()) =>
  Stream.runForEach(socket.reads, (chunk) => {
    const frames = decoder.push(chunk)
    return frames.length === 0 ? Effect.void : socket.writeAll(frames.map((f) => encodeFrame(reversed(f))))
  })

/**
 * Client: sends the frames (reading the answers concurrently), half-closes,
 * and returns the answers once the server ends.
 */
export const exchangeFrames = (socket: Socket.Socket, frames: ReadonlyArray<Uint8Array>) =>
  Effect.gen(function*() {
    const decoder = new FrameDecoder()
    const answers: Array<Uint8Array> = []
    const reader = yield* Effect.forkChild(
      Stream.runForEach(socket.reads, (chunk) => Effect.sync(() => answers.push(...decoder.push(chunk))))
    )
    for (const frame of frames) yield* socket.write(encodeFrame(frame))
    yield* socket.endOfOutput
    yield* Fiber.join(reader)
    return { answers, leftover: decoder.pending }
  })

export const equalBytes = (a: Uint8Array, b: Uint8Array): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i])

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** Server handler: reads one HTTP/1.1-like request head, answers with a body naming the path, closes. */
export const httpHandler = (socket: Socket.Socket) =>
  Effect.gen(function*() {
    let head = ""
    let path = ""
    yield* socket.reads.pipe(
      Stream.takeUntil((chunk) => {
        head += decoder.decode(chunk, { stream: true })
        return head.includes("\r\n\r\n")
      }),
      Stream.runDrain
    )
    const requestLine = head.split("\r\n")[0] ?? ""
    path = requestLine.split(" ")[1] ?? "?"
    const body = `you asked for ${path}`
    yield* socket.write(
      `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${encoder.encode(body).length}\r\n`
        + `Connection: close\r\n\r\n${body}`
    )
  })

/** Client: sends a request, reads the response until the server closes, parses it. */
export const httpGet = (socket: Socket.Socket, path: string) =>
  Effect.gen(function*() {
    yield* socket.write(`GET ${path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n`)
    const raw = yield* Stream.mkString(Stream.decodeText(socket.reads))
    const [head = "", body = ""] = raw.split("\r\n\r\n")
    const lines = head.split("\r\n")
    const headers = new Map(lines.slice(1).map((l) => [l.split(": ")[0]!.toLowerCase(), l.split(": ")[1] ?? ""]))
    return { status: lines[0] ?? "", headers, body }
  })

/**
 * Advances the `TestClock` in steps until the fiber is done (at most
 * `maxSteps` steps), then joins it. Virtual time only.
 */
export const driveClock = <A, E>(
  fiber: Fiber.Fiber<A, E>,
  step: Duration.Input = "10 millis",
  maxSteps = 100_000
) =>
  Effect.gen(function*() {
    for (let i = 0; i < maxSteps && fiber.pollUnsafe() === undefined; i++) yield* TestClock.adjust(step)
    return yield* Fiber.join(fiber)
  })

export { Socket }
