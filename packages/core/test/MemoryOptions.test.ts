/**
 * The memory network's own options are checked when the network is made:
 * a generated sweep of bad values for every option and fault field is
 * refused, naming the field — typed (`MemoryNetwork.InvalidOptions`) on the
 * Effect face (`MemoryNetwork.layer`, `Testing.layerMemory`,
 * `MemoryNetwork.inject`), thrown (`TypeError` / `RangeError`) by the plain
 * `MemoryNetwork.make` — and generated good values are accepted.
 */
import { assert, describe, it } from "@effect/vitest"
import * as MemoryNetwork from "@sluice/core/MemoryNetwork"
import * as Network from "@sluice/core/Network"
import * as Testing from "@sluice/core/Testing"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import fc from "fast-check"

/** A bad option and the field its error must name. */
interface Bad {
  readonly options: unknown
  readonly field: string
}

const notNumber = fc.oneof(fc.string(), fc.boolean(), fc.constant(null), fc.object(), fc.array(fc.integer()))
const notInteger = fc.oneof(
  fc.constantFrom(Number.NaN, Infinity, -Infinity, 0.5, 1e300),
  fc.double({ noInteger: true })
)
const notBoolean = fc.oneof(fc.integer(), fc.string(), fc.constant(null), fc.object())
const badMillis = fc.oneof(
  notNumber,
  fc.constantFrom(Number.NaN, Infinity, -Infinity),
  fc.double({ max: -Number.MIN_VALUE, noNaN: true })
)
const badPort = fc.oneof(notNumber, notInteger, fc.integer({ max: 0 }), fc.integer({ min: 65536 }))
const notIp = fc.oneof(
  fc.string().filter((s) => !/^[\d.:a-fA-F]+$/.test(s)),
  fc.constantFrom("256.1.1.1", "1.2.3", "localhost", "::g", "")
)

/** An object whose `key` is a getter that throws. */
const throwing = (key: string): object =>
  Object.defineProperty({}, key, {
    enumerable: true,
    get: () => {
      throw new Error("unreadable")
    }
  })

const bad = (options: fc.Arbitrary<unknown>, field: string): fc.Arbitrary<Bad> =>
  options.map((o) => ({ options: o, field }))

/** A bad value for one field of a fault, with the field's path under `at`. */
const badFault = (at: string): fc.Arbitrary<{ readonly fault: unknown; readonly field: string }> => {
  const field = <A>(name: string, values: fc.Arbitrary<A>) =>
    values.map((v) => ({ fault: { [name]: v }, field: `${at}.${name}` }))
  const perDirection = <A>(name: string, values: fc.Arbitrary<A>) =>
    fc.oneof(
      field(name, values),
      fc.constantFrom("toServer", "toClient").chain((dir) =>
        values.map((v) => ({ fault: { [name]: { [dir]: v } }, field: `${at}.${name}.${dir}` }))
      ),
      fc.constant({ fault: { [name]: {} }, field: `${at}.${name}` }),
      fc.constant({ fault: { [name]: { toServer: 1, upstream: 2 } }, field: `${at}.${name}.upstream` })
    )
  return fc.oneof(
    perDirection("latency", badMillis),
    perDirection("slice", fc.oneof(notNumber, notInteger, fc.integer({ max: -1 }))),
    perDirection("bandwidth", fc.oneof(badMillis, fc.constant(0))),
    perDirection("resetAfter", fc.oneof(notNumber, notInteger, fc.integer({ max: -1 }))),
    field("slowClose", badMillis),
    field("refuse", notBoolean),
    field("latncy", fc.integer()),
    fc.oneof(
      badPort.map((port) => ({ fault: { match: { port } }, field: `${at}.match.port` })),
      fc.oneof(fc.constant(""), notNumber.filter((v) => typeof v !== "string")).map((host) => ({
        fault: { match: { host } },
        field: `${at}.match.host`
      })),
      fc.constant({ fault: { match: { prot: 5432 } }, field: `${at}.match.prot` }),
      fc.oneof(fc.integer(), fc.string()).map((match) => ({ fault: { match }, field: `${at}.match` }))
    ),
    fc.oneof(fc.integer(), fc.string(), fc.constant(null)).map((fault) => ({ fault, field: at }))
  )
}

const badOptions: fc.Arbitrary<Bad> = fc.oneof(
  bad(fc.oneof(notNumber, notInteger).map((seed) => ({ seed })), "seed"),
  bad(
    fc.oneof(notNumber, notInteger, fc.integer({ max: 0 })).map((bufferSize) => ({ bufferSize })),
    "bufferSize"
  ),
  bad(
    fc.tuple(fc.integer({ min: 2, max: 65535 }), fc.integer({ min: 1, max: 65534 })).filter(([a, b]) => a > b).map((
      ephemeralPorts
    ) => ({ ephemeralPorts })),
    "ephemeralPorts"
  ),
  bad(badPort.map((p) => ({ ephemeralPorts: [p, 60000] })), "ephemeralPorts[0]"),
  bad(badPort.map((p) => ({ ephemeralPorts: [1024, p] })), "ephemeralPorts[1]"),
  bad(
    fc.oneof(
      fc.oneof(fc.string(), fc.boolean(), fc.constant(null), fc.object()),
      fc.array(fc.integer()).filter((a) => a.length !== 2)
    ).map((ephemeralPorts) => ({ ephemeralPorts })),
    "ephemeralPorts"
  ),
  bad(notBoolean.map((trace) => ({ trace })), "trace"),
  bad(notBoolean.map((nagle) => ({ nagle })), "nagle"),
  bad(
    fc.oneof(notNumber, fc.constant(Number.NaN), fc.double({ max: -Number.MIN_VALUE, noNaN: true })).map((
      retransmissionTimeout
    ) => ({ retransmissionTimeout })),
    "retransmissionTimeout"
  ),
  bad(notIp.map((address) => ({ hosts: { "db.test": address } })), `hosts["db.test"]`),
  bad(notIp.map((address) => ({ hosts: { "db.test": ["10.0.0.1", address] } })), `hosts["db.test"][1]`),
  bad(fc.constant({ hosts: { "db.test": [] } }), `hosts["db.test"]`),
  bad(fc.oneof(fc.integer(), fc.string()).map((hosts) => ({ hosts })), "hosts"),
  bad(fc.oneof(fc.integer(), fc.object()).map((faults) => ({ faults })), "faults"),
  badFault("faults[0]").map(({ fault, field }) => ({ options: { faults: [fault] }, field })),
  bad(fc.constant({ bufferSise: 1024 }), "bufferSise"),
  // a getter that throws is refused, naming it; the check itself never throws
  bad(fc.constant(throwing("bufferSize")), "bufferSize"),
  bad(fc.constant({ faults: [throwing("latency")] }), "faults[0].latency"),
  bad(fc.oneof(fc.integer(), fc.string(), fc.constant(null)), "options")
)

const goodFault = fc.record(
  {
    match: fc.record({ host: fc.constantFrom("127.0.0.1", "db.test"), port: fc.integer({ min: 1, max: 65535 }) }, {
      requiredKeys: []
    }),
    slice: fc.integer({ min: 0, max: 8 }),
    latency: fc.oneof(
      fc.integer({ min: 0, max: 500 }),
      fc.record({ toClient: fc.double({ min: 0, max: 500, noNaN: true }) })
    ),
    bandwidth: fc.double({ min: 1, max: 1e9, noNaN: true }),
    refuse: fc.boolean(),
    resetAfter: fc.record({ toServer: fc.integer({ min: 0, max: 1e6 }) }),
    slowClose: fc.integer({ min: 0, max: 10_000 })
  },
  { requiredKeys: [] }
)

const goodOptions = fc.record(
  {
    seed: fc.integer(),
    bufferSize: fc.integer({ min: 1, max: 1 << 24 }),
    ephemeralPorts: fc.tuple(fc.integer({ min: 1, max: 65535 }), fc.integer({ min: 0, max: 1000 })).map((
      [a, n]
    ) => [a, Math.min(65535, a + n)] as const),
    trace: fc.boolean(),
    nagle: fc.boolean(),
    retransmissionTimeout: fc.oneof(fc.integer({ min: 0, max: 1e7 }), fc.constant(Infinity)),
    hosts: fc.dictionary(
      fc.constantFrom("db.test", "cache.test", "a"),
      fc.oneof(fc.constant("10.0.0.1"), fc.constant(["10.0.0.2", "::1"]))
    ),
    faults: fc.array(goodFault, { maxLength: 3 })
  },
  { requiredKeys: [] }
)

/** Builds the memory layer with `options` and returns how it failed (or `undefined`). */
const buildExit = <A, E>(layer: Layer.Layer<A, E>) => Effect.runSync(Effect.exit(Effect.scoped(Layer.build(layer))))

const invalidField = (exit: Exit.Exit<unknown, unknown>): string | undefined => {
  if (Exit.isSuccess(exit)) return undefined
  const error = exit.cause.reasons.find((r) => r._tag === "Fail")
  const value = error?._tag === "Fail" ? error.error : undefined
  return value instanceof MemoryNetwork.InvalidOptions ? value.field : "not InvalidOptions"
}

describe("MemoryNetwork options", () => {
  it("a sweep of bad values: make throws naming the field, layer and layerMemory fail with InvalidOptions", () => {
    fc.assert(
      fc.property(badOptions, ({ field, options }) => {
        let thrown: unknown
        try {
          MemoryNetwork.make(options as MemoryNetwork.Options).dispose()
        } catch (error) {
          thrown = error
        }
        assert.isTrue(thrown instanceof TypeError || thrown instanceof RangeError, `make threw ${String(thrown)}`)
        assert.include((thrown as Error).message, `${field}:`)
        assert.strictEqual(invalidField(buildExit(MemoryNetwork.layer(options as MemoryNetwork.Options))), field)
        assert.strictEqual(invalidField(buildExit(Testing.layerMemory(options as MemoryNetwork.Options))), field)
      }),
      { numRuns: 400 }
    )
  })

  it("bad faults given later: inject throws, MemoryNetwork.inject fails with InvalidOptions naming the field", () => {
    fc.assert(
      fc.property(badFault("fault"), ({ fault, field }) => {
        const network = MemoryNetwork.make()
        assert.throws(() => network.inject(fault as MemoryNetwork.Fault), `${field}:`)
        const exit = Effect.runSync(
          Effect.exit(
            Effect.scoped(MemoryNetwork.inject(fault as MemoryNetwork.Fault)).pipe(
              Effect.provideService(MemoryNetwork.MemoryNetwork, network)
            )
          )
        )
        assert.strictEqual(invalidField(exit), field)
        assert.strictEqual(network.snapshot().open, 0)
        network.dispose()
      }),
      { numRuns: 200 }
    )
  })

  it("setHost refuses what is not an IP address, naming it", () => {
    fc.assert(
      fc.property(notIp, (address) => {
        const network = MemoryNetwork.make()
        assert.throws(() => network.setHost("db.test", address), TypeError, "addresses:")
        assert.throws(() => network.setHost("db.test", ["10.0.0.1", address]), TypeError, "addresses[1]:")
        network.dispose()
      }),
      { numRuns: 100 }
    )
  })

  it("a sweep of good options: accepted by make and by the layer", () => {
    fc.assert(
      fc.property(goodOptions, (options) => {
        const network = MemoryNetwork.make(options)
        assert.strictEqual(network.snapshot().open, 0)
        network.dispose()
        assert.isTrue(Exit.isSuccess(buildExit(MemoryNetwork.layer(options))))
      }),
      { numRuns: 200 }
    )
  })

  it.effect("the first bad field is named in the message, with what was expected and what was given", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        Effect.scoped(Network.listen({ port: 0 })).pipe(
          Effect.provide(MemoryNetwork.layer({ faults: [{ latency: { toServer: 5, toClient: Infinity } }] }))
        )
      )
      assert.strictEqual(error._tag, "InvalidOptions")
      assert.strictEqual(
        error.message,
        "memory network options: faults[0].latency.toClient: expected a finite number of milliseconds ≥ 0, got Infinity"
      )
      assert.throws(
        () => MemoryNetwork.make({ ephemeralPorts: [5, 4] }),
        RangeError,
        "MemoryNetwork.make: ephemeralPorts: expected [first, last] with first ≤ last, got [5, 4]"
      )
      assert.throws(() => MemoryNetwork.make({ bufferSize: -1 }), RangeError, "bufferSize: expected an integer ≥ 1")
    }))
})
