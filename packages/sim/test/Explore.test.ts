import { it } from "@effect/vitest"
import { Cluster, Simulation } from "@sluice/sim"
import { Effect } from "effect"
import { config, increment, runner } from "./fixtures/counter.ts"

it.effect("explore", () =>
  Simulation.run({ hosts: ["a", "b", "c"], seed: 1, step: "20 millis" }, (sim) =>
    Effect.gen(function*() {
      const storage = yield* Cluster.makeStorage(config)
      const a = yield* sim.start("a", runner(storage))
      yield* sim.start("b", runner(storage))
      yield* sim.start("c", runner(storage))
      const t0 = Date.now()
      yield* sim.advance("5 seconds")
      console.log("advance 5s took", Date.now() - t0, "ms", [...storage.owners()].join(" "))
      for (let i = 0; i < 6; i++) {
        const r = yield* sim.drive(a.use(increment(`e${i}`)), "10 seconds")
        console.log(`e${i}`, JSON.stringify(r))
      }
      console.log("total", Date.now() - t0, "ms; trace lines", sim.trace().length)
    })), 60_000)
