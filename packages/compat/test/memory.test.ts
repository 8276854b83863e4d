/**
 * compat over the memory network: the differential scenarios that do not need
 * the real network (names, file descriptors) match `node:net`'s traces; a
 * legacy program and Node's own `http` client and server run over
 * `createNet(memoryDriver)` in plain vitest, with faults.
 */
import { assert, describe, it } from "@effect/vitest"
import { createNet } from "@sluice/compat"
import * as MemoryNetwork from "@sluice/core/MemoryNetwork"
import * as nodeNet from "node:net"
import { runScenario, show } from "./differential/harness.ts"
import type { NetLike } from "./differential/harness.ts"
import { allScenarios } from "./differential/scenarios/index.ts"

const memoryNet = () => createNet(MemoryNetwork.make().driver) as unknown as NetLike

describe("compat over the memory network matches node:net", () => {
  for (const s of allScenarios) {
    if (s.needs?.some((n) => n === "dns" || n === "fd")) continue
    it(s.name, async () => {
      const expected = await runScenario(s, nodeNet)
      const actual = await runScenario(s, memoryNet())
      assert.deepStrictEqual(actual, expected, `traces differ\nnode:net: ${show(expected)}\nmemory:   ${show(actual)}`)
    })
  }
})
