/**
 * The generated bad-input sweep (`inputs.ts`): each generated case runs on
 * `node:net` and on compat, each in a child process of its own, and the
 * outcomes (what was thrown, events with their arguments, the properties
 * recorded, uncaught exceptions and warnings) must be equal. A crash or a hang
 * of either child is a failure of that case, reported with what the child
 * printed, never the end of the test run.
 *
 * `SLUICE_INPUT_RUNS` sets the number of cases (default 1,000; a few thousand
 * locally), `SLUICE_INPUT_SEED` / `SLUICE_INPUT_PATH` replay a failure, as
 * fast-check prints them. `node test/differential/inputs-run.ts` lists every
 * difference of a run at once.
 */
import { afterAll, assert, describe, it } from "@effect/vitest"
import * as fc from "fast-check"
import { isDeepStrictEqual } from "node:util"
import { CaseRunner, died } from "./children.ts"
import type { Outcome } from "./children.ts"
import { diffText } from "./harness.ts"
import { cases, showCase } from "./inputs.ts"
import type { Case } from "./inputs.ts"
import { knownInputs } from "./known-inputs.ts"

const runs = Number(process.env["SLUICE_INPUT_RUNS"] ?? 1000)
const seed = process.env["SLUICE_INPUT_SEED"]

const describeOutcomes = (c: Case, expected: Outcome, actual: Outcome): string => {
  const head = `outcomes differ for ${showCase(c)}`
  if (died(expected)) return `${head}\nnode:net's child died (${expected.died}):\n${expected.stderr}`
  if (died(actual)) return `${head}\ncompat's child died (${actual.died}):\n${actual.stderr}`
  return `${head}\n${diffText(expected.traces, actual.traces)}`
}

describe("compat matches node:net on generated bad and odd inputs", () => {
  const nodeRunner = new CaseRunner("node")
  const compatRunner = new CaseRunner("compat")
  afterAll(() => Promise.all([nodeRunner.close(), compatRunner.close()]))

  it("every entry point, every call form: same throws, events and properties; no crash", async () => {
    await fc.assert(
      fc.asyncProperty(cases, async (c) => {
        const [expected, actual] = await Promise.all([nodeRunner.run(c), compatRunner.run(c)])
        const same = !died(expected) && !died(actual) && isDeepStrictEqual(expected, actual)
        assert.isTrue(same, describeOutcomes(c, expected, actual))
      }),
      {
        numRuns: runs,
        interruptAfterTimeLimit: 240_000,
        ...(seed !== undefined ? { seed: Number(seed), path: process.env["SLUICE_INPUT_PATH"] ?? "" } : {})
      }
    )
  }, 300_000)

  describe("the inputs issue 17 reported", () => {
    for (const [name, c] of knownInputs) {
      it(name, async () => {
        const [expected, actual] = await Promise.all([nodeRunner.run(c), compatRunner.run(c)])
        const same = !died(expected) && !died(actual) && isDeepStrictEqual(expected, actual)
        assert.isTrue(same, describeOutcomes(c, expected, actual))
      })
    }
  })

  it("nothing escapes a case: no uncaught exception after a case ended", () => {
    const strays = [...nodeRunner.strays, ...compatRunner.strays]
    assert.deepStrictEqual(strays, [], JSON.stringify(strays, null, 2))
  })
})
