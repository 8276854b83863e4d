/**
 * A three-runner effect/cluster deployment simulated in one process: three
 * hosts on Sluice's memory network, a sharded counter entity, virtual time.
 * Messages reach entities on every runner; runner "b" crashes and its
 * entities move to "a" and "c"; "b" restarts and takes shards again. Run it
 * twice: the trace is the same, byte for byte.
 *
 *   node examples/cluster-simulation.ts
 */
import { Cluster, Simulation } from "@sluice/sim"
import { Effect, Layer, References, Schema } from "effect"
import { Entity } from "effect/cluster"
import { Rpc } from "effect/rpc"

// a counter entity that tells which runner it lives on
const Counter = Entity.make("Counter", [
  Rpc.make("Increment", {
    payload: { amount: Schema.Number },
    success: Schema.Struct({ count: Schema.Number, runner: Schema.String })
  })
])
const CounterLive = Counter.toLayer(Effect.gen(function*() {
  const runner = yield* Entity.CurrentRunnerAddress
  let count = 0
  return { Increment: ({ payload }) => Effect.sync(() => ({ count: count += payload.amount, runner: runner.host })) }
}))

const increment = (id: string) => Effect.flatMap(Counter.client, (client) => client(id).Increment({ amount: 1 }))

// cluster timings in seconds, not minutes: the whole story takes about 30 s of virtual time
const config = {
  shardsPerGroup: 12,
  refreshAssignmentsInterval: "500 millis",
  shardLockRefreshInterval: "1 second",
  shardLockExpiration: "3 seconds",
  entityMessagePollInterval: "1 second",
  runnerHealthCheckInterval: "2 seconds"
} as const

const program = Simulation.run(
  { hosts: ["a", "b", "c"], seed: 42, step: "20 millis" },
  (sim) =>
    Effect.gen(function*() {
      const storage = yield* Cluster.makeStorage(config)
      const runner = CounterLive.pipe(Layer.provideMerge(Cluster.layerRunner({ storage })))
      const a = yield* sim.start("a", runner)
      yield* sim.start("b", runner)
      yield* sim.start("c", runner)
      yield* sim.advance("5 seconds") // runners register, shards are assigned and locked

      const home = new Map<string, string>()
      for (const id of ["e0", "e1", "e2", "e3", "e4", "e5"]) {
        const reply = yield* sim.drive(a.use(increment(id)), "10 seconds")
        home.set(id, reply.runner)
      }
      console.log("entities live on:", Object.fromEntries(home))

      yield* sim.kill("b") // a crash: b's sockets vanish, its locks stay until they expire
      for (const [id, runner] of home) {
        if (runner !== "b") continue
        const reply = yield* sim.drive(a.use(increment(id)), "1 minute")
        console.log(`${id} was on b, now on ${reply.runner} (count ${reply.count}: b's state died with it)`)
        if (reply.runner === "b") return yield* Effect.die(`${id} did not move`)
      }

      yield* sim.restart("b")
      yield* sim.advance("10 seconds")
      const owners = new Set([...storage.owners().values()].map((address) => address.split(":")[0]))
      console.log("runners holding shards after the restart:", [...owners].join(", "))
      if (!owners.has("b")) return yield* Effect.die("b took no shards after its restart")

      const log = sim.traceOf("b")
      console.log(`\nb's log (${log.length} events, first and last 8):`)
      console.log([...log.slice(0, 8), "        ...", ...log.slice(-8)].join("\n"))
    })
)

// the cluster logs its view of the crash (a dead runner's storage calls failing, ...): quiet here
Effect.runPromise(Effect.provideService(program, References.MinimumLogLevel, "None")).catch((error) => {
  console.error(error)
  process.exit(1)
})
