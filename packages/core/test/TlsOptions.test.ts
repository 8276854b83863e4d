/**
 * Generated bad TLS options: whatever value a field gets that it cannot
 * take, `Network.connect` and `Network.listen` fail with `InvalidOptions`
 * naming that field (`tls.<field>: ...`), before anything is dialled or bound.
 * A valid value next to it changes nothing.
 */
import { assert, describe, it } from "@effect/vitest"
import * as MemoryNetwork from "@sluice/core/MemoryNetwork"
import * as Network from "@sluice/core/Network"
import type * as Tls from "@sluice/core/Tls"
import * as Effect from "effect/Effect"
import * as fc from "fast-check"
import { clientTls, runTls, serverTls } from "./TlsFixtures.ts"

const notA = (ok: (u: unknown) => boolean) => fc.anything().filter((u) => u !== undefined && !ok(u))
const isPem = (u: unknown) => (typeof u === "string" && u.length > 0) || (u instanceof Uint8Array && u.length > 0)
const versions = ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"]

/** For each field, values it must refuse. */
const bad: Record<string, fc.Arbitrary<unknown>> = {
  servername: notA((u) => typeof u === "string" && u.length > 0),
  ca: fc.oneof(notA((u) => isPem(u) || Array.isArray(u)), fc.constant([]), fc.array(notA(isPem), { minLength: 1 })),
  passphrase: notA((u) => typeof u === "string"),
  rejectUnauthorized: notA((u) => typeof u === "boolean"),
  minVersion: notA((u) => versions.includes(u as string)),
  maxVersion: notA((u) => versions.includes(u as string)),
  ciphers: notA((u) => typeof u === "string" && u.length > 0),
  alpnProtocols: fc.oneof(
    notA(Array.isArray),
    fc.constant([]),
    fc.array(
      fc.oneof(fc.constant(""), fc.string({ minLength: 256, maxLength: 300 }), notA((u) => typeof u === "string")),
      {
        minLength: 1,
        maxLength: 3
      }
    )
  ),
  checkServerIdentity: notA((u) => typeof u === "function"),
  handshakeTimeout: fc.oneof(fc.integer({ max: -1 }), fc.constant(Number.NaN), fc.constant("soon"), fc.constant(-0.5))
}

const serverBad: Record<string, fc.Arbitrary<unknown>> = {
  requestCert: notA((u) => typeof u === "boolean"),
  rejectUnauthorized: bad.rejectUnauthorized!,
  alpnProtocols: bad.alpnProtocols!,
  minVersion: bad.minVersion!,
  ciphers: bad.ciphers!,
  handshakeTimeout: bad.handshakeTimeout!,
  sni: fc.oneof(fc.constant("api.test"), fc.constant(42), fc.constant({ "": serverTls }), fc.constant({ "a.test": 1 }))
}

const known = new Set([...Object.keys(bad), "cert", "key", "sni", "requestCert"])
const unknownKey = fc.string({ minLength: 1, maxLength: 12 }).filter((k) => !known.has(k) && k !== "__proto__")

/** Seeded: a failure names its seed and replays. */
const seed = Number(process.env["SLUICE_FC_SEED"] ?? Date.now() % 100_000)
const runs = { numRuns: 25, seed }

/** A value as a test message shows it (fast-check makes objects without prototype). */
const shown = (u: unknown): string => {
  try {
    return `${typeof u} ${String(u)} (seed ${seed})`
  } catch {
    return `${typeof u} (seed ${seed})`
  }
}

describe("generated bad TLS options", () => {
  it.live("connect: each field refuses what it cannot take, by name, before dialling", () =>
    runTls(
      MemoryNetwork.make().driver,
      Effect.gen(function*() {
        for (const [field, values] of Object.entries(bad)) {
          const samples = fc.sample(values, runs)
          for (const value of samples) {
            const tls = { ...clientTls, [field]: value } as Tls.ClientOptions
            const error = yield* Effect.flip(Effect.scoped(Network.connect({ host: "127.0.0.1", port: 9, tls })))
            assert.strictEqual(error.reason, "InvalidOptions", `${field}: ${shown(value)}`)
            assert.include(error.message, `tls.${field}`, `${field}: ${shown(value)}`)
            // never dialled: a dial to port 9 here would be refused
            assert.deepStrictEqual(error.attempts ?? [], [])
          }
        }
        for (const key of fc.sample(unknownKey, runs)) {
          const tls = { ...clientTls, [key]: true } as Tls.ClientOptions
          const error = yield* Effect.flip(Effect.scoped(Network.connect({ host: "127.0.0.1", port: 9, tls })))
          assert.strictEqual(error.reason, "InvalidOptions", `${key} (seed ${seed})`)
          assert.include(error.message, `tls.${key}: unknown TLS option`)
        }
      })
    ))

  it.live("listen: each field refuses what it cannot take, by name, before binding", () =>
    runTls(
      MemoryNetwork.make().driver,
      Effect.gen(function*() {
        for (const [field, values] of Object.entries(serverBad)) {
          for (const value of fc.sample(values, runs)) {
            const tls = { ...serverTls, [field]: value } as Tls.ServerOptions
            const error = yield* Effect.flip(Network.listen({ host: "127.0.0.1", port: 0, tls }))
            assert.strictEqual(error.reason, "InvalidOptions", `${field}: ${shown(value)}`)
            assert.include(error.message, `tls.${field}`, `${field}: ${shown(value)}`)
          }
        }
        // and the valid options still listen
        const server = yield* Network.listen({ host: "127.0.0.1", port: 0, tls: serverTls })
        assert.strictEqual(server.address._tag, "Tcp")
      })
    ))
})
