/**
 * A three-runner effect/cluster deployment with a sharded counter entity, on
 * three simulated hosts: messages reach entities on every runner; a
 * partitioned runner's entities wait, then move once the cluster declares it
 * unhealthy, and it takes shards back after the heal; a killed runner's
 * shards move once its locks expire, and it takes shards back after a
 * restart. Each scenario runs 20 times with the same seed: the traces are
 * byte for byte the same.
 */
import { assert, describe, it } from "@effect/vitest"
import { Cluster, Simulation } from "@sluice/sim"
import { Effect, Fiber, type Scope } from "effect"
import { config, increment, runner, type Sim } from "./fixtures/counter.ts"

const RUNS = 20
const ENTITIES = ["e0", "e1", "e2", "e3", "e4", "e5"]

/** The hosts holding shard locks, from the storage. */
const owners = (storage: Cluster.Storage) => new Set([...storage.owners().values()].map((a) => a.split(":")[0]))

/** Starts the cluster and sends one increment to each entity from runner a; returns where each lives. */
const startCluster = (sim: Sim) =>
  Effect.gen(function*() {
    const storage = yield* Cluster.makeStorage(config)
    const a = yield* sim.start("a", runner(storage))
    yield* sim.start("b", runner(storage))
    yield* sim.start("c", runner(storage))
    yield* sim.advance("5 seconds") // registration, assignments, locks
    const home = new Map<string, string>()
    for (const id of ENTITIES) {
      const reply = yield* sim.drive(a.use(increment(id)), "10 seconds")
      assert.strictEqual(reply.count, 1)
      home.set(id, reply.runner)
    }
    return { storage, a, home }
  })

/** Runs `scenario` RUNS times with one seed; returns the first run's result after checking every trace is the same. */
const deterministic = <A, E>(scenario: (sim: Sim) => Effect.Effect<A, E, Scope.Scope>) =>
  Effect.gen(function*() {
    const traces: Array<string> = []
    let first: A | undefined
    for (let i = 0; i < RUNS; i++) {
      const result = yield* Simulation.run({ hosts: ["a", "b", "c"], seed: 42, step: "20 millis" }, (sim) =>
        Effect.tap(scenario(sim), () =>
          Effect.sync(() => {
            traces.push(sim.formatTrace())
          })))
      if (i === 0) {
        first = result
      }
    }
    for (let i = 1; i < RUNS; i++) {
      assert.strictEqual(traces[i], traces[0], `run ${i + 1}'s trace differs from run 1's`)
    }
    assert.isAbove(traces[0]!.split("\n").length, 50)
    return first!
  })

describe("a three-runner cluster on simulated hosts", () => {
  it.effect("messages reach entities on every runner", () =>
    Effect.gen(function*() {
      const homes = yield* deterministic((sim) => Effect.map(startCluster(sim), ({ home }) => home))
      assert.deepStrictEqual(new Set(homes.values()), new Set(["a", "b", "c"]))
    }), 60_000)

  it.effect(
    "a partitioned runner's entities wait, move to the healthy runners, and it rejoins after the heal",
    () =>
      Effect.gen(function*() {
        const result = yield* deterministic((sim) =>
          Effect.gen(function*() {
            const { a, home, storage } = yield* startCluster(sim)
            const onC = ENTITIES.find((id) => home.get(id) === "c")!
            yield* sim.isolate("c")
            const sending = yield* Effect.forkChild(a.use(increment(onC)))
            yield* sim.advance("1 second")
            // the runner is unreachable: the send is retried, not failed
            const waitedOneSecond = sending.pollUnsafe() === undefined
            const moved = yield* sim.drive(Fiber.join(sending), "1 minute")
            const ownersDuringPartition = owners(storage)
            yield* sim.heal()
            yield* sim.advance("10 seconds") // the health check finds c alive, assignments include it again
            const ownersAfterHeal = owners(storage)
            const after: Record<string, number> = {}
            for (const id of ENTITIES) after[id] = (yield* sim.drive(a.use(increment(id)), "10 seconds")).count
            return { onC, waitedOneSecond, moved, ownersDuringPartition, ownersAfterHeal, after }
          })
        )
        assert.isTrue(result.waitedOneSecond)
        assert.notStrictEqual(result.moved.runner, "c")
        // a fresh entity on its new runner: the old one's state stayed behind the partition
        assert.strictEqual(result.moved.count, 1)
        assert.deepStrictEqual(result.ownersDuringPartition, new Set(["a", "b"]))
        assert.deepStrictEqual(result.ownersAfterHeal, new Set(["a", "b", "c"]))
        for (const id of ENTITIES) assert.isAtLeast(result.after[id]!, 1)
      }),
    60_000
  )

  it.effect(
    "a killed runner's shards move to the others, and it takes shards again after a restart",
    () =>
      Effect.gen(function*() {
        const result = yield* deterministic((sim) =>
          Effect.gen(function*() {
            const { a, home, storage } = yield* startCluster(sim)
            const onB = ENTITIES.filter((id) => home.get(id) === "b")
            yield* sim.kill("b")
            const moved: Array<string> = []
            for (const id of onB) moved.push((yield* sim.drive(a.use(increment(id)), "1 minute")).runner)
            const ownersAfterKill = owners(storage)
            yield* sim.restart("b")
            yield* sim.advance("10 seconds")
            const ownersAfterRestart = owners(storage)
            for (const id of ENTITIES) yield* sim.drive(a.use(increment(id)), "10 seconds")
            return { onB, moved, ownersAfterKill, ownersAfterRestart }
          })
        )
        assert.isAbove(result.onB.length, 0)
        for (const runner of result.moved) assert.include(["a", "c"], runner)
        assert.deepStrictEqual(result.ownersAfterKill, new Set(["a", "c"]))
        assert.deepStrictEqual(result.ownersAfterRestart, new Set(["a", "b", "c"]))
      }),
    60_000
  )
})
