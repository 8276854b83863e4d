/**
 * Property: for random sequences of write / end / pause / resume /
 * setTimeout / destroy on both ends of a connection, compat's trace equals
 * node:net's. The generator and the scenario live in `sequence.ts`.
 */
import { assert, describe, it } from "@effect/vitest"
import * as compat from "@sluice/compat"
import * as fc from "fast-check"
import * as nodeNet from "node:net"
import { diffText, runScenario, show } from "./harness.ts"
import type { NetLike } from "./harness.ts"
import { runParameters, sequences, sequenceScenario } from "./sequence.ts"

describe("compat matches node:net on random operation sequences", () => {
  it("write / end / pause / resume / setTimeout / destroy on both ends", async () => {
    await fc.assert(
      fc.asyncProperty(sequences, fc.boolean(), async (ops, allowHalfOpen) => {
        const s = sequenceScenario(ops, allowHalfOpen)
        const expected = await runScenario(s, nodeNet)
        const actual = await runScenario(s, compat as unknown as NetLike)
        assert.deepStrictEqual(actual, expected, `traces differ for ${show(ops)}\n${diffText(expected, actual)}`)
      }),
      runParameters(30)
    )
  }, 120_000)
})
