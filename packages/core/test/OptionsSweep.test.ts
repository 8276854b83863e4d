/**
 * A generated sweep of bad options over `Network.connect` and
 * `Network.listen`, run on every driver at once: each bad value (NaN,
 * Infinity, -0 where it is wrong, huge numbers, numbers as strings, objects,
 * arrays, symbols, functions, `null`, getters that throw), alone among valid
 * options, is a typed `InvalidOptions` naming its field — never a defect, a
 * thrown exception, a hang or an open socket — and every driver gives the
 * same answer. Valid durations, generated too, connect alike everywhere.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Network from "@sluice/core/Network"
import * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Schema from "effect/Schema"
import * as fc from "fast-check"
import { isIP } from "node:net"
import { drivers } from "./drivers.ts"
import { ipcPath, tcpPort, tracked } from "./helpers.ts"

/** What an option must be, as the README says. */
type Kind =
  | "boolean"
  | "nonEmptyString"
  | "port"
  | "nonNegativeInt"
  | "family"
  | "hints"
  | "ipAddress"
  | "function"
  | "timeout"
  | "delay"

const socketKinds = {
  noDelay: "boolean",
  keepAlive: "boolean",
  keepAliveInitialDelay: "delay",
  allowHalfOpen: "boolean",
  readHighWaterMark: "nonNegativeInt",
  writeHighWaterMark: "nonNegativeInt",
  idleTimeout: "timeout",
  closeTimeout: "timeout"
} as const

const connectKinds: Record<string, Kind> = {
  host: "nonEmptyString",
  port: "port",
  path: "nonEmptyString",
  localAddress: "ipAddress",
  localPort: "port",
  family: "family",
  hints: "hints",
  lookup: "function",
  autoSelectFamily: "boolean",
  autoSelectFamilyAttemptTimeout: "timeout",
  timeout: "timeout",
  ...socketKinds
}

const listenKinds: Record<string, Kind> = {
  host: "nonEmptyString",
  port: "port",
  path: "nonEmptyString",
  fd: "nonNegativeInt",
  backlog: "nonNegativeInt",
  exclusive: "boolean",
  ipv6Only: "boolean",
  reusePort: "boolean",
  readableAll: "boolean",
  writableAll: "boolean",
  removeStaleSocket: "boolean",
  maxConnections: "nonNegativeInt",
  ...socketKinds
}

/** Odd values of every type. */
const odd: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(
    Number.NaN,
    Infinity,
    -Infinity,
    -0,
    -1,
    0.5,
    2 ** 31,
    2 ** 53,
    1e308,
    -1e308,
    Number.MIN_VALUE,
    "",
    " ",
    "80",
    "0",
    "true",
    "NaN",
    "Infinity",
    "1 second",
    "-1 seconds",
    "127.0.0.1",
    null,
    true,
    false,
    0n,
    5n,
    -5n,
    {},
    [],
    [1],
    [0, 0],
    [Number.NaN, 0],
    { seconds: Number.NaN },
    { seconds: "5" },
    { seconds: 1 },
    Object.create(null),
    new Date(0),
    Duration.seconds(1),
    Duration.millis(-1),
    Symbol("odd"),
    () => 80
  ),
  fc.double(),
  fc.integer({ min: -(2 ** 32), max: 2 ** 32 }),
  fc.string({ maxLength: 12 }),
  fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }),
  fc.array(fc.anything({ maxDepth: 1 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.anything({ maxDepth: 1 }), { maxKeys: 3 }),
  fc.func(fc.anything({ maxDepth: 0 }))
)

const units = "nanos?|micros?|millis?|seconds?|minutes?|hours?|days?|weeks?"
const durationString = new RegExp(`^-?\\d+(\\.\\d+)?\\s+(${units})$`)
const unitKeys = new Set([
  "weeks",
  "days",
  "hours",
  "minutes",
  "seconds",
  "milliseconds",
  "microseconds",
  "nanoseconds"
])

/**
 * Values that are surely not a duration ≥ 0: not a number, a bigint, a
 * string in `Duration`'s grammar, a `Duration`, a pair of numbers or an object
 * of unit fields; or NaN, or negative.
 */
const surelyNotADuration = (u: unknown): boolean => {
  switch (typeof u) {
    case "number":
      return Number.isNaN(u) || u < 0
    case "bigint":
      return u < 0n
    case "string":
      return u !== "Infinity" && (!durationString.test(u) || u.startsWith("-"))
    case "object": {
      if (u === null) return true
      if (Duration.isDuration(u)) return Duration.toMillis(u) < 0
      if (Array.isArray(u)) {
        const numbers = u.length === 2 && u.every((x) => typeof x === "number" && !Number.isNaN(x))
        return !numbers || (u[0] as number) < 0 || (u[1] as number) < 0
      }
      const keys = Object.keys(u)
      const values = Object.values(u) as Array<unknown>
      return keys.length === 0 || keys.some((k) => !unitKeys.has(k))
        || values.some((v) => typeof v !== "number" || Number.isNaN(v) || v < 0)
    }
    default:
      return true
  }
}

/** Whether `u` is a bad value for an option of `kind` (its rule, restated). */
const isBad = (kind: Kind, u: unknown): boolean => {
  switch (kind) {
    case "boolean":
      return typeof u !== "boolean"
    case "nonEmptyString":
      return typeof u !== "string" || u.length === 0
    case "port":
      return !(typeof u === "number" && Number.isInteger(u) && u >= 0 && u <= 65535)
    case "nonNegativeInt":
      return !(typeof u === "number" && Number.isSafeInteger(u) && u >= 0)
    case "family":
      return u !== 0 && u !== 4 && u !== 6
    case "hints":
      // within 31 bits, which flags are valid is the driver's (the memory network has none)
      return !(typeof u === "number" && Number.isInteger(u) && u >= 0 && u <= 2 ** 31 - 1)
    case "ipAddress":
      return typeof u !== "string" || isIP(u) === 0
    case "function":
      return typeof u !== "function"
    case "timeout":
      return surelyNotADuration(u)
    case "delay":
      return surelyNotADuration(u) || u === Infinity || u === "Infinity"
  }
}

/** A throwing getter stands for the value. */
const throwing = Symbol("a getter that throws")

const badCase = (kinds: Record<string, Kind>) =>
  fc.constantFrom(...Object.keys(kinds)).chain((field) =>
    fc.record({
      field: fc.constant(field),
      value: fc.oneof(
        { weight: 9, arbitrary: odd.filter((u) => u !== undefined && isBad(kinds[field]!, u)) },
        { weight: 1, arbitrary: fc.constant<unknown>(throwing) }
      )
    })
  )

/** Valid socket options, mixed in at random: only the bad field may be reported. */
const validExtras = fc.record({
  noDelay: fc.boolean(),
  keepAlive: fc.boolean(),
  allowHalfOpen: fc.boolean(),
  readHighWaterMark: fc.nat(),
  idleTimeout: fc.constantFrom<Duration.Input>(0, "1 minute", Duration.seconds(30), { seconds: 5 }, [1, 0], 10n ** 9n),
  closeTimeout: fc.constantFrom<Duration.Input>(Infinity, "Infinity", 100, "2 seconds")
}, { requiredKeys: [] })

const withBad = (base: Record<string, unknown>, field: string, value: unknown): object => {
  const options: Record<string, unknown> = { ...base }
  delete options[field]
  if (value === throwing) {
    Object.defineProperty(options, field, {
      enumerable: true,
      get: () => {
        throw new Error("a getter that throws")
      }
    })
  } else options[field] = value
  return options
}

/** Runs one call on every driver; each must fail with a typed InvalidOptions and leave nothing behind. */
const answers = async (
  cases: ReadonlyArray<ReturnType<typeof trackedNetwork>>,
  call: (
    network: Network.NetworkShape
  ) => Effect.Effect<unknown, { readonly reason: string; readonly detail?: string | undefined }>
): Promise<ReadonlyArray<string>> => {
  const out: Array<string> = []
  for (const c of cases) {
    let exit: Exit.Exit<unknown, Cause.TimeoutError | { readonly reason: string; readonly detail?: string | undefined }>
    try {
      exit = await Effect.runPromiseExit(Effect.timeout(call(c.network), "2 seconds"))
    } catch (error) {
      throw new Error(`${c.name}: threw ${fc.stringify(error)}`, { cause: error })
    }
    assert.isTrue(Exit.isFailure(exit), `${c.name}: accepted`)
    if (Exit.isFailure(exit)) {
      const error = Cause.findErrorOption(exit.cause)
      assert.isTrue(error._tag === "Some", `${c.name}: not a typed failure: ${Cause.pretty(exit.cause)}`)
      if (error._tag === "Some") {
        const e = error.value
        if (Cause.isTimeoutError(e)) throw new Error(`${c.name}: hung`)
        assert.strictEqual(e.reason, "InvalidOptions", `${c.name}: ${JSON.stringify(e)}`)
        out.push(e.detail ?? "")
      }
    }
    assert.strictEqual(c.tracked.connects.length + c.tracked.listens.length, 0, `${c.name}: reached the driver`)
    assert.strictEqual(c.tracked.open(), 0, `${c.name}: left a socket open`)
  }
  return out
}

const trackedNetwork = (d: (typeof drivers)[number]) => {
  const t = tracked(d.make())
  return { name: d.name, tracked: t, network: Network.make(t.driver) }
}

describe("a generated sweep of bad options, on every driver at once", () => {
  it("connect: each bad value is InvalidOptions naming its field, the same on every driver", async () => {
    const cases = drivers.map(trackedNetwork)
    await fc.assert(
      fc.asyncProperty(badCase(connectKinds), validExtras, async ({ field, value }, extras) => {
        const options = withBad({ ...extras, host: "127.0.0.1", port: 1 }, field, value)
        const details = await answers(
          cases,
          (network) => Effect.scoped(network.connect(options as Network.ConnectOptions))
        )
        for (const detail of details) assert.isTrue(detail.startsWith(`${field}: `), `${detail} should name ${field}`)
        assert.deepStrictEqual(new Set(details).size, 1, `drivers disagree: ${details.join(" | ")}`)
      }),
      { numRuns: 300 }
    )
  })

  it("listen: each bad value is InvalidOptions naming its field, the same on every driver", async () => {
    const cases = drivers.map(trackedNetwork)
    await fc.assert(
      fc.asyncProperty(badCase(listenKinds), validExtras, async ({ field, value }, extras) => {
        const options = withBad({ ...extras, host: "127.0.0.1", port: 0 }, field, value)
        const details = await answers(
          cases,
          (network) => Effect.scoped(network.listen(options as Network.ListenOptions))
        )
        for (const detail of details) assert.isTrue(detail.startsWith(`${field}: `), `${detail} should name ${field}`)
        assert.deepStrictEqual(new Set(details).size, 1, `drivers disagree: ${details.join(" | ")}`)
      }),
      { numRuns: 300 }
    )
  })

  it("options that are not an object: InvalidOptions naming `options`, the same on every driver", async () => {
    const cases = drivers.map(trackedNetwork)
    const notAnObject = fc.oneof(
      odd.filter((u) => typeof u !== "object" || u === null || Array.isArray(u)),
      fc.constant(undefined)
    )
    await fc.assert(
      fc.asyncProperty(notAnObject, async (options) => {
        const connect = await answers(cases, (n) => Effect.scoped(n.connect(options as Network.ConnectOptions)))
        const listen = await answers(cases, (n) => Effect.scoped(n.listen(options as Network.ListenOptions)))
        for (const detail of [...connect, ...listen]) assert.isTrue(detail.startsWith("options: "), detail)
        assert.strictEqual(new Set(connect).size, 1)
      }),
      { numRuns: 100 }
    )
  })

  it("an option for another kind of target, generated: InvalidOptions naming it, the same on every driver", async () => {
    const cases = drivers.map(trackedNetwork)
    const path = ipcPath("sweep")
    const tcpOnly = { host: "127.0.0.1", port: 0, ipv6Only: false, reusePort: false }
    const ipcOnly = { readableAll: false, writableAll: true, removeStaleSocket: false }
    const target = fc.constantFrom<Record<string, unknown>>({ path }, { fd: 3 }, {})
    const misplaced = fc.oneof(
      fc.constantFrom(...Object.entries(tcpOnly)),
      fc.constantFrom(...Object.entries(ipcOnly)),
      fc.constant(["fd", 3] as const)
    )
    await fc.assert(
      fc.asyncProperty(target, misplaced, async (base, [field, value]) => {
        const kind = base["path"] !== undefined ? "ipc" : base["fd"] !== undefined ? "fd" : "tcp"
        const allowed = field === "fd"
          ? kind !== "ipc"
          : field in tcpOnly
          ? kind === "tcp"
          : kind === "ipc"
        fc.pre(!allowed)
        const details = await answers(
          cases,
          (n) => Effect.scoped(n.listen({ ...base, [field]: value } as Network.ListenOptions))
        )
        for (const detail of details) assert.isTrue(detail.startsWith(`${field}: `), detail)
        assert.strictEqual(new Set(details).size, 1)
      }),
      { numRuns: 60 }
    )
  })

  it("valid durations, generated, connect alike on every driver (0 and Infinity included)", async () => {
    const validDuration = fc.oneof(
      fc.constantFrom<Duration.Input>(0, -0, Infinity, "Infinity", Duration.zero, Duration.infinity, [0, 0]),
      fc.double({ min: 1000, max: 1e15, noNaN: true }),
      fc.integer({ min: 1, max: 3650 }).map((days): Duration.Input => `${days} days`),
      fc.integer({ min: 5, max: 10_000 }).map((s): Duration.Input => ({ seconds: s, milliseconds: 1 })),
      fc.bigInt({ min: 10n ** 9n, max: 10n ** 24n })
    )
    const networks = drivers.map((d) => Network.make(d.make()))
    const results = await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
      const servers = yield* Effect.forEach(networks, (n) => n.listen({ host: "127.0.0.1", port: 0 }))
      const ports = servers.map((s) => tcpPort(s.address))
      return yield* Effect.promise(() =>
        fc.assert(
          fc.asyncProperty(
            fc.constantFrom("timeout", "idleTimeout", "closeTimeout", "autoSelectFamilyAttemptTimeout"),
            validDuration,
            async (field, value) => {
              for (let i = 0; i < networks.length; i++) {
                const options = { host: "127.0.0.1", port: ports[i]!, [field]: value } as Network.ConnectOptions
                const exit = await Effect.runPromiseExit(
                  Effect.scoped(Effect.timeout(networks[i]!.connect(options), "2 seconds"))
                )
                if (Exit.isFailure(exit)) {
                  assert.fail(`${drivers[i]!.name} ${field} ${fc.stringify(value)}: ${Cause.pretty(exit.cause)}`)
                }
              }
            }
          ),
          { numRuns: 40 }
        ).then(() => "ok")
      )
    })))
    assert.strictEqual(results, "ok")
  })

  it("the exported Schemas accept exactly the values connect and listen accept", async () => {
    const network = Network.make(tracked(drivers[drivers.length - 1]!.make()).driver)
    const schemaAccepts = (
      schema: typeof Network.ConnectOptionsSchema | typeof Network.ListenOptionsSchema,
      options: object
    ): boolean => Exit.isSuccess(Schema.decodeUnknownExit(schema)(options))
    /** Whether validation let the options through (a failure of the driver, refusing or timing out, is after it). */
    const accepted = async (
      field: string,
      effect: Effect.Effect<unknown, { readonly reason: string; readonly detail?: string | undefined }>
    ): Promise<boolean> => {
      const exit = await Effect.runPromiseExit(Effect.timeout(effect, "2 seconds"))
      if (Exit.isSuccess(exit)) return true
      const error = Cause.findErrorOption(exit.cause)
      if (error._tag === "None") throw new Error(Cause.pretty(exit.cause))
      const e = error.value
      return Cause.isTimeoutError(e) || !(e.reason === "InvalidOptions" && e.detail?.startsWith(`${field}: `) === true)
    }
    const dataFields = (schema: { readonly fields: object }) => Object.keys(schema.fields)
    const value = fc.oneof(odd, fc.integer({ min: 0, max: 70000 }), fc.constantFrom(0, 4, 6, "::1", "x"))
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...dataFields(Network.ConnectOptionsSchema)), value, async (field, v) => {
        fc.pre(v !== undefined)
        const base: Record<string, unknown> = field === "path" ? {} : { host: "127.0.0.1", port: 1 }
        const options = { ...base, [field]: v }
        const byNetwork = await accepted(field, Effect.scoped(network.connect(options as Network.ConnectOptions)))
        assert.strictEqual(
          byNetwork,
          schemaAccepts(Network.ConnectOptionsSchema, options),
          `${field}: ${fc.stringify(v)}`
        )
      }),
      { numRuns: 300 }
    )
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...dataFields(Network.ListenOptionsSchema)), value, async (field, v) => {
        fc.pre(v !== undefined)
        const ipcField = ["path", "readableAll", "writableAll", "removeStaleSocket"].includes(field)
        const base: Record<string, unknown> = ipcField ? { path: ipcPath("schema") } : {}
        const options = { ...base, [field]: v }
        const byNetwork = await accepted(field, Effect.scoped(network.listen(options as Network.ListenOptions)))
        assert.strictEqual(
          byNetwork,
          schemaAccepts(Network.ListenOptionsSchema, options),
          `${field}: ${fc.stringify(v)}`
        )
      }),
      { numRuns: 300 }
    )
  })
})
