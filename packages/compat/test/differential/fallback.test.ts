/**
 * Every differential scenario on compat over `NodeDriver.netSocketDriver`
 * (a `net.Socket` under every connection: the driver the node driver falls
 * back to where the libuv handle bindings are not reachable): the traces must
 * equal `node:net`'s, as on the raw-handle driver.
 */
import { assert, describe, it } from "@effect/vitest"
import { createNet } from "@sluice/compat"
import { netSocketDriver } from "@sluice/node-adapter/NodeDriver"
import * as nodeNet from "node:net"
import { diffText, runScenario } from "./harness.ts"
import type { NetLike } from "./harness.ts"
import { allScenarios } from "./scenarios/index.ts"

const fallbackNet = createNet(netSocketDriver) as unknown as NetLike

describe("compat over the net.Socket driver matches node:net", () => {
  for (const s of allScenarios) {
    it(s.name, async () => {
      const expected = await runScenario(s, nodeNet)
      const actual = await runScenario(s, fallbackNet)
      assert.deepStrictEqual(actual, expected, `traces differ\n${diffText(expected, actual)}`)
    })
  }
})
