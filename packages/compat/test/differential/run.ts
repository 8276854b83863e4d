/**
 * Debug helper: `node test/differential/run.ts <filter>` prints the node:net
 * and compat traces of matching scenarios side by side (`DRIVER=memory` or
 * `DRIVER=fallback`: compat over the memory network or over
 * `NodeDriver.netSocketDriver`).
 */
import * as compat from "@sluice/compat"
import * as MemoryNetwork from "@sluice/core/MemoryNetwork"
import { netSocketDriver } from "@sluice/node-adapter/NodeDriver"
import * as nodeNet from "node:net"
import { isDeepStrictEqual } from "node:util"
import { runScenario, show } from "./harness.ts"
import type { NetLike } from "./harness.ts"
import { allScenarios } from "./scenarios/index.ts"

const filter = process.argv[2] ?? ""
const driver = process.env["DRIVER"]
const compatNet = (): NetLike =>
  (driver === "memory"
    ? compat.createNet(MemoryNetwork.make().driver)
    : driver === "fallback"
    ? compat.createNet(netSocketDriver)
    : compat) as unknown as NetLike
let failed = 0
for (const s of allScenarios.filter((x) => x.name.includes(filter))) {
  const expected = await runScenario(s, nodeNet)
  const actual = await runScenario(s, compatNet())
  const same = isDeepStrictEqual(expected, actual)
  if (!same) failed++
  console.log(`${same ? "SAME" : "DIFF"} ${s.name}`)
  if (!same || process.env["SHOW"]) {
    for (const actor of new Set([...Object.keys(expected), ...Object.keys(actual)])) {
      const e = (expected[actor] ?? []).map((x) => JSON.stringify(x))
      const a = (actual[actor] ?? []).map((x) => JSON.stringify(x))
      if (show(e) === show(a) && !process.env["SHOW"]) continue
      for (let i = 0; i < Math.max(e.length, a.length); i++) {
        if (e[i] === a[i]) console.log(`  [${actor}]   ${e[i]}`)
        else {
          console.log(`  [${actor}] N ${e[i]}`)
          console.log(`  [${actor}] C ${a[i]}`)
        }
      }
    }
  }
}
console.log(`${failed} differ`)
