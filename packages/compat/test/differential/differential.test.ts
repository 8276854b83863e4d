/**
 * Every differential scenario, run on `node:net` and on compat over the node
 * driver: the traces must be equal.
 */
import { assert, describe, it } from "@effect/vitest"
import * as compat from "@sluice/compat"
import * as nodeNet from "node:net"
import { diffText, runScenario } from "./harness.ts"
import type { NetLike } from "./harness.ts"
import { allScenarios } from "./scenarios/index.ts"

const compatNet = compat as unknown as NetLike

describe("compat matches node:net", () => {
  for (const s of allScenarios) {
    it(s.name, async () => {
      const expected = await runScenario(s, nodeNet)
      const actual = await runScenario(s, compatNet)
      assert.deepStrictEqual(actual, expected, `traces differ\n${diffText(expected, actual)}`)
    })
  }
})
