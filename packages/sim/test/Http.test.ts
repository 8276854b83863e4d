/**
 * An effect/http service and its client on two simulated hosts, served by
 * `SluiceHttpServer` and called through `SluiceHttpClient`, with a partition
 * in the middle of a request: the client uploads a body over a slow link,
 * and the network cuts the link once the server has read part of it.
 *
 * - Healed before the client gives up: nothing crosses while the link is cut,
 *   then the upload resumes where it stopped and the request succeeds, handled
 *   once, with every byte.
 * - Not healed: the client's request fails with the typed error of a dead
 *   link (`HttpClientError`, `TransportError`, `ETIMEDOUT` after the
 *   network's retransmission timeout), the server never answers a body it did
 *   not get whole.
 *
 * Each scenario runs 20 times with one seed: the traces are byte-identical.
 */
import { assert, describe, it } from "@effect/vitest"
import { SluiceHttpClient, SluiceHttpServer } from "@sluice/http"
import { Simulation } from "@sluice/sim"
import { Clock, Effect, Exit, Layer, Stream } from "effect"
import { HttpBody, HttpClient, HttpRouter, HttpServerRequest, HttpServerResponse } from "effect/http"

/** What the server saw of the uploads. */
interface Progress {
  /** Body bytes the handler has read so far. */
  received: number
  /** Requests answered 200. */
  answered: number
}

const CHUNK = 4096
const CHUNKS = 12
const BODY = CHUNK * CHUNKS

/** `POST /upload`: reads the body as it arrives (counting it), answers its length. */
const app = (progress: Progress) =>
  HttpRouter.add(
    "POST",
    "/upload",
    Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      let length = 0
      yield* Stream.runForEach(request.stream, (chunk) =>
        Effect.sync(() => {
          length += chunk.length
          progress.received += chunk.length
        }))
      progress.answered++
      return HttpServerResponse.text(`received ${length} bytes`)
    })
  )

const serverLayer = (progress: Progress) =>
  HttpRouter.serve(app(progress), { disableLogger: true, disableListenLog: true }).pipe(
    Layer.provide(SluiceHttpServer.layer({ port: 8080 }, { gracePeriod: "1 second" }))
  )

/** The upload's body: 12 chunks of 4 KiB, one every 200 ms of virtual time (a streamed upload). */
const body = Stream.range(1, CHUNKS).pipe(
  Stream.mapEffect((i) => Effect.as(Effect.sleep("200 millis"), new Uint8Array(CHUNK).fill(i))),
  Stream.rechunk(1)
)

const upload = Effect.gen(function*() {
  const client = yield* HttpClient.HttpClient
  const response = yield* client.post("http://server:8080/upload", { body: HttpBody.stream(body) })
  return { status: response.status, text: yield* response.text }
})

/** Waits (in virtual time) until `f()` holds. */
const until = (f: () => boolean) =>
  Effect.suspend(() => (f() ? Effect.void : Effect.sleep("10 millis"))).pipe(
    Effect.repeat({ until: () => f() })
  )

interface Outcome {
  readonly exit: Exit.Exit<{ readonly status: number; readonly text: string }, unknown>
  /** Virtual milliseconds from the cut to the request's end. */
  readonly endedAfterCut: number
  /** Body bytes the server had read when the link was cut, */
  readonly atCut: number
  /** and one second into the partition, and at its end. */
  readonly duringPartition: ReadonlyArray<number>
  readonly progress: Progress
  readonly trace: string
}

/**
 * The upload over a 16 KiB/s link (3 s for the body); the link is cut once
 * the server read some of it; healed after `healAfter` ms (never: undefined).
 */
const scenario = (healAfter: number | undefined) =>
  Simulation.run(
    { hosts: ["client", "server"], seed: 42, network: { retransmissionTimeout: 20_000 } },
    (sim) =>
      Effect.gen(function*() {
        const progress: Progress = { received: 0, answered: 0 }
        yield* sim.start("server", serverLayer(progress))
        yield* sim.link("client", "server", { latency: 20 })
        const client = yield* sim.start("client", SluiceHttpClient.layer)
        const duringPartition: Array<number> = []
        let atCut = 0
        let cutAt = 0
        const request = Effect.exit(client.use(upload)).pipe(
          Effect.tap(() => Effect.map(Clock.currentTimeMillis, (now) => (endedAfterCut = now - cutAt)))
        )
        let endedAfterCut = 0
        const faults = Effect.gen(function*() {
          yield* until(() => progress.received >= 2 * CHUNK)
          yield* sim.partition("client", "server")
          atCut = progress.received
          cutAt = yield* Clock.currentTimeMillis
          yield* Effect.sleep("1 second")
          duringPartition.push(progress.received)
          yield* Effect.sleep(healAfter === undefined ? "40 seconds" : healAfter - 1000)
          duringPartition.push(progress.received)
          if (healAfter !== undefined) yield* sim.heal()
        })
        const [exit] = yield* sim.drive(Effect.all([request, faults], { concurrency: "unbounded" }), "2 minutes")
        if (healAfter === undefined) yield* sim.heal()
        return { exit, endedAfterCut, atCut, duringPartition, progress, trace: sim.formatTrace() }
      })
  )

/** Runs `scenario` `times` times: the outcome of the first, after checking every trace is the same. */
const repeated = (times: number, healAfter: number | undefined) =>
  Effect.gen(function*() {
    const first: Outcome = yield* scenario(healAfter)
    for (let i = 1; i < times; i++) {
      const again = yield* scenario(healAfter)
      assert.strictEqual(again.trace, first.trace, `run ${i + 1} of seed 42 differs from the first`)
    }
    return first
  })

/** The reason tag and the socket error code of a failed request. */
const transportFailure = (exit: Exit.Exit<unknown, unknown>) => {
  const reason = Exit.isFailure(exit) ? exit.cause.reasons.find((r) => r._tag === "Fail") : undefined
  const e = (reason?._tag === "Fail" ? reason.error : undefined) as
    | { _tag?: string; reason?: { _tag?: string; cause?: { code?: string } } }
    | undefined
  return { tag: e?._tag, reason: e?.reason?._tag, code: e?.reason?.cause?.code }
}

describe("effect/http across two simulated hosts, partitioned mid-request", () => {
  it.effect("healed in time: nothing crosses the cut, then the upload completes, handled once, every byte", () =>
    Effect.gen(function*() {
      const { exit, endedAfterCut, atCut, duringPartition, progress, trace } = yield* repeated(20, 5000)
      // the cut came in the middle of the body: the server had part of it
      assert.isAtLeast(atCut, 2 * CHUNK)
      assert.isBelow(atCut, BODY)
      // nothing crossed while the link was cut
      assert.deepStrictEqual(duringPartition, [atCut, atCut])
      // then the rest arrived and the one request was answered, after the heal
      assert.isTrue(Exit.isSuccess(exit), String(exit))
      if (Exit.isSuccess(exit)) assert.deepStrictEqual(exit.value, { status: 200, text: `received ${BODY} bytes` })
      assert.deepStrictEqual(progress, { received: BODY, answered: 1 })
      assert.isAtLeast(endedAfterCut, 5000)
      assert.match(trace, /partition client server\n +5\d{3}ms heal all\n +5\d{3}ms c1 toServer data \d+\n/)
    }))

  it.effect("not healed: the request fails with ETIMEDOUT after the retransmission timeout; no answer", () =>
    Effect.gen(function*() {
      const { exit, endedAfterCut, atCut, progress, trace } = yield* repeated(20, undefined)
      assert.deepStrictEqual(transportFailure(exit), {
        tag: "HttpClientError",
        reason: "TransportError",
        code: "ETIMEDOUT"
      })
      // the client gave up once the network's 20 s retransmission timeout passed, not before
      assert.isAtLeast(endedAfterCut, 20_000)
      assert.isBelow(endedAfterCut, 21_000)
      assert.match(trace, /c1 toServer retransmission timeout\n.*c1 toClient read error ETIMEDOUT/)
      // the server never answered the body it did not get whole
      assert.deepStrictEqual(progress, { received: atCut, answered: 0 })
    }))
})
