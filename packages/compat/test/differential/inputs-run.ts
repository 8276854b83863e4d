/**
 * Debug helper for the bad-input sweep: `node test/differential/inputs-run.ts
 * [count] [seed] [filter]` runs `count` generated cases (default 1000, seed 1)
 * on node:net and on compat and prints every difference, grouped by what
 * differs first; `filter` keeps the cases whose source text contains it.
 * `SHOW=1` prints both traces of every difference.
 */
import * as fc from "fast-check"
import { isDeepStrictEqual } from "node:util"
import { CaseRunner, died } from "./children.ts"
import type { Outcome } from "./children.ts"
import { diffText } from "./harness.ts"
import { cases, showCase } from "./inputs.ts"

const count = Number(process.argv[2] ?? 1000)
const seed = Number(process.argv[3] ?? 1)
const filter = process.argv[4] ?? ""
const all = fc.sample(cases, { numRuns: count, seed }).filter((c) => showCase(c).includes(filter))

const nodeRunner = new CaseRunner("node")
const compatRunner = new CaseRunner("compat")
const groups = new Map<string, Array<{ index: number; text: string; detail: string }>>()
const started = Date.now()

const firstDifference = (a: Outcome, b: Outcome): string => {
  if (died(a) || died(b)) return `died: node ${died(a) ? a.died : "no"}, compat ${died(b) ? b.died : "no"}`
  for (const actor of new Set([...Object.keys(a.traces), ...Object.keys(b.traces)])) {
    const x = a.traces[actor] ?? []
    const y = b.traces[actor] ?? []
    for (let i = 0; i < Math.max(x.length, y.length); i++) {
      if (!isDeepStrictEqual(x[i], y[i])) {
        const what = (e: unknown) => (Array.isArray(e) ? String(e[0]) : String(e))
        return `[${actor}] node ${what(x[i])} / compat ${what(y[i])}`
      }
    }
  }
  return "?"
}

for (let i = 0; i < all.length; i++) {
  const c = all[i]!
  const [expected, actual] = await Promise.all([nodeRunner.run(c), compatRunner.run(c)])
  if (isDeepStrictEqual(expected, actual)) continue
  const key = `${c.kind}: ${firstDifference(expected, actual)}`
  const detail = died(expected) || died(actual)
    ? `node: ${JSON.stringify(expected).slice(0, 1500)}\ncompat: ${JSON.stringify(actual).slice(0, 1500)}`
    : diffText(expected.traces, actual.traces)
  const list = groups.get(key) ?? []
  list.push({ index: i, text: showCase(c), detail })
  groups.set(key, list)
}
await Promise.all([nodeRunner.close(), compatRunner.close()])

let differences = 0
for (const [key, list] of [...groups].toSorted((a, b) => b[1].length - a[1].length)) {
  differences += list.length
  console.log(`\n### ${list.length}× ${key}`)
  for (const { index, text, detail } of list.slice(0, process.env["SHOW"] ? list.length : 2)) {
    console.log(`  #${index}: ${text}`)
    console.log(detail.split("\n").map((l) => `      ${l}`).join("\n"))
  }
}
for (const s of [...nodeRunner.strays, ...compatRunner.strays]) console.log("stray", JSON.stringify(s).slice(0, 500))
console.log(
  `\n${all.length} cases, ${differences} differ (${groups.size} kinds), ${
    nodeRunner.strays.length + compatRunner.strays.length
  } strays, ${((Date.now() - started) / 1000).toFixed(1)} s`
)
