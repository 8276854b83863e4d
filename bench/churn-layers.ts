/**
 * Where a connection's time goes, layer by layer, in one process: sequential
 * connect → write 1 byte → read it back → half-close → wait for the close,
 * against a raw node:net echo server in the same process, with
 *
 * - `node:net`: `net.connect`, `'data'`, `end()`, `'close'`;
 * - `engine`: `Engine.connect` + `Engine.Connection` over the node driver,
 *   plain callbacks;
 * - `engine-callback`: the same inside one `Effect.callback` per step, in
 *   `Effect.scoped`;
 * - `engine-socket`: plus `Socket.make` and its scoped release;
 * - `face-connect`: `Network.connect` in `Effect.scoped` (span, scope,
 *   `Socket`), then the same plain callbacks on `socket.connection`;
 * - `face`: the Effect face throughout (`socket.write`, `socket.pull`,
 *   `socket.endOfOutput`), as the churn scenario's `sluice` peer does.
 *
 * The layers alternate in batches (random order per round), so load from
 * other processes hits them alike; the figure is the median (and min) of the
 * batches, in µs per connection. Run with `node bench/churn-layers.ts [rounds]`;
 * add `--cpu-prof` to profile.
 */
import * as Engine from "@sluice/core/Engine"
import * as Network from "@sluice/core/Network"
import * as Socket from "@sluice/core/Socket"
import { driver } from "@sluice/node-adapter/NodeDriver"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Scope from "effect/Scope"
import * as net from "node:net"

const ONE = new Uint8Array([0x62])
const BATCH = 150
const rounds = Number(process.argv[2] ?? 12)

const server = net.createServer((s) => {
  s.on("data", (d) => s.write(d))
  s.on("end", () => s.end())
  s.on("error", () => {})
})
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
const address = server.address()
const port = typeof address === "object" && address !== null ? address.port : 0

const rawOnce = () =>
  new Promise<void>((resolve) => {
    const c = net.connect(port, "127.0.0.1")
    c.on("connect", () => c.write(ONE))
    c.on("data", () => c.end())
    c.on("close", () => resolve())
    c.on("error", () => {})
  })

/** Write 1 byte, half-close once it is echoed, `done` at the end of input. */
const exchange = (c: Engine.Connection, done: () => void): void => {
  c.attach({
    onData: () => c.shutdown(() => {}),
    onEnd: done,
    onError: () => {},
    onTimeout: () => {},
    onEndWritable: () => {}
  })
  c.write([ONE], () => {})
  c.readStart()
}

const request: Engine.ConnectRequest = {
  _tag: "Tcp",
  host: "127.0.0.1",
  port,
  localAddress: undefined,
  localPort: undefined,
  family: 0,
  hints: 0,
  lookup: undefined,
  autoSelectFamily: true,
  autoSelectFamilyAttemptTimeoutMs: 250,
  deadlineMs: undefined
}

const engineOnce = () =>
  new Promise<void>((resolve, reject) => {
    Engine.connect(driver, request, {}, (failure, connected) => {
      if (connected === undefined) return reject(new Error(failure?.error.code ?? "connect failed"))
      const c = new Engine.Connection(driver, connected.handle, { allowHalfOpen: false })
      exchange(c, () => c.end(10_000, () => resolve()))
    })
  })

const engineConnect = Effect.callback<Engine.Connected, Error>((resume) => {
  Engine.connect(driver, request, {}, (failure, connected) =>
    resume(
      connected === undefined
        ? Effect.fail(new Error(failure?.error.code ?? "connect failed"))
        : Effect.succeed(connected)
    ))
})

const engineCallbackOnce = Effect.scoped(Effect.gen(function*() {
  const connected = yield* engineConnect
  const c = new Engine.Connection(driver, connected.handle, { allowHalfOpen: false })
  yield* Effect.callback<void>((resume) => exchange(c, () => c.end(10_000, () => resume(Effect.void))))
}))

const engineSocketOnce = Effect.scoped(Effect.gen(function*() {
  const scope = yield* Scope.Scope
  const connected = yield* engineConnect
  const c = new Engine.Connection(driver, connected.handle, { allowHalfOpen: false })
  const socket = yield* Socket.make(c, scope)
  yield* Effect.callback<void>((resume) => exchange(socket.connection, () => resume(Effect.void)))
}))

const network = Network.make(driver)

const faceConnectOnce = Effect.scoped(Effect.gen(function*() {
  const socket = yield* network.connect({ host: "127.0.0.1", port })
  yield* Effect.callback<void>((resume) => exchange(socket.connection, () => resume(Effect.void)))
}))

const faceOnce = Effect.scoped(Effect.gen(function*() {
  const socket = yield* network.connect({ host: "127.0.0.1", port })
  yield* socket.write(ONE)
  yield* Effect.catch(
    Effect.forever(Effect.flatMap(socket.pull, () => socket.endOfOutput), { disableYield: true }),
    (e) => (Cause.isDone(e) ? Effect.void : Effect.fail(e))
  )
}))

const repeat = (once: Effect.Effect<void, unknown>) => (n: number) =>
  Effect.runPromise(Effect.gen(function*() {
    for (let i = 0; i < n; i++) yield* once
  }))

const layers: Record<string, (n: number) => Promise<void>> = {
  "node:net": async (n) => {
    for (let i = 0; i < n; i++) await rawOnce()
  },
  engine: async (n) => {
    for (let i = 0; i < n; i++) await engineOnce()
  },
  "engine-callback": repeat(engineCallbackOnce),
  "engine-socket": repeat(engineSocketOnce),
  "face-connect": repeat(faceConnectOnce),
  face: repeat(faceOnce)
}

const samples: Record<string, Array<number>> = {}
for (const [name, run] of Object.entries(layers)) {
  samples[name] = []
  await run(300) // warm-up
}
for (let r = 0; r < rounds; r++) {
  for (const name of Object.keys(layers).toSorted(() => Math.random() - 0.5)) {
    const t0 = performance.now()
    await layers[name]!(BATCH)
    samples[name]!.push(((performance.now() - t0) / BATCH) * 1000)
  }
}
const median = (xs: ReadonlyArray<number>) => xs.toSorted((a, b) => a - b)[xs.length >> 1] ?? 0
for (const [name, xs] of Object.entries(samples)) {
  console.log(
    `${name.padEnd(16)} median ${median(xs).toFixed(1).padStart(7)} µs/conn   min ${
      Math.min(...xs).toFixed(1).padStart(7)
    }`
  )
}
server.close()
