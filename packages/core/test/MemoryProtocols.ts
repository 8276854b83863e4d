/**
 * Small realistic protocols for the fault tests: length-prefixed frames
 * (`Framing`'s decoder and encoder) and an HTTP/1.1-like request/response,
 * whose readers must cope with any slicing of the byte stream.
 */
import * as Framing from "@sluice/core/Framing"
import * as Socket from "@sluice/core/Socket"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/testing/TestClock"

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

/**
 * Server handler: answers every length-prefixed frame (a 4-byte big-endian
 * length, then the payload) with the frame reversed, until the peer ends.
 * `seen`, if given, gets the size of every chunk the server reads (to show
 * the slicing happened).
 */
export const reverseFrames = (socket: Socket.Socket, seen?: Array<number>) =>
  socket.reads.pipe(
    Stream.map((chunk) => {
      seen?.push(chunk.length)
      return chunk
    }),
    Framing.decodeLengthPrefixed(),
    Stream.map(reversed),
    Framing.encodeLengthPrefixed(),
    Stream.run(socket.writes)
  )

/**
 * Client: sends the frames length-prefixed (reading the answers
 * concurrently), half-closes, and returns the answers once the server ends.
 * A partial frame at the end fails it with `FramingError` (`Truncated`).
 */
export const exchangeFrames = (socket: Socket.Socket, frames: ReadonlyArray<Uint8Array>) =>
  Effect.gen(function*() {
    const reader = yield* Effect.forkChild(socket.reads.pipe(Framing.decodeLengthPrefixed(), Stream.runCollect))
    yield* Stream.fromIterable(frames).pipe(Framing.encodeLengthPrefixed(), Stream.run(socket.writes))
    yield* socket.endOfOutput
    return yield* Fiber.join(reader)
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
