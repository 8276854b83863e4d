/**
 * Random operation sequences on both ends of a connection, shared by the
 * property tests (compat over the node driver, compat over the memory
 * network): the generator, the scenario that plays a sequence, and the
 * fast-check options read from the environment (`SLUICE_FC_RUNS`,
 * `SLUICE_FC_SEED`, `SLUICE_FC_PATH`).
 *
 * Between two operations the loop runs until it is quiet (no event for a
 * few turns), so each operation's effects are observed before the next one:
 * the interleaving is decided by the sequence, not by the kernel.
 */
import * as fc from "fast-check"
import type { Socket } from "node:net"
import { accept, listen, once, scenario, socketEvents } from "./harness.ts"
import type { NetLike, Recorder } from "./harness.ts"

/** Which end an operation acts on: the dialing client or the accepted peer. */
export type Actor = "client" | "peer"
/** One operation of a sequence. */
export type Op =
  | { readonly actor: Actor; readonly kind: "write"; readonly size: number }
  | { readonly actor: Actor; readonly kind: "end" | "pause" | "resume" | "destroy" | "destroyWithError" }
  | { readonly actor: Actor; readonly kind: "setTimeout"; readonly ms: 0 | 60_000 }
  | { readonly actor: Actor; readonly kind: "idleTimeout" }

const actor = fc.constantFrom<Actor>("client", "peer")
/** One operation on one end. */
export const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ actor, kind: fc.constant("write" as const), size: fc.integer({ min: 1, max: 20_000 }) })
  },
  {
    weight: 2,
    arbitrary: fc.record({ actor, kind: fc.constantFrom("end" as const, "pause" as const, "resume" as const) })
  },
  {
    weight: 1,
    arbitrary: fc.record({ actor, kind: fc.constantFrom("destroy" as const, "destroyWithError" as const) })
  },
  {
    weight: 1,
    arbitrary: fc.record({
      actor,
      kind: fc.constant("setTimeout" as const),
      ms: fc.constantFrom(0 as const, 60_000 as const)
    })
  },
  { weight: 1, arbitrary: fc.record({ actor, kind: fc.constant("idleTimeout" as const) }) }
)

const props = ["destroyed", "readyState", "bytesRead", "bytesWritten", "timeout", "writableLength", "isPaused"] as const

/** Runs the loop until no event was recorded for `quiet` turns (at most `max` turns). */
const settle = async (rec: Recorder, quiet = 6, max = 400): Promise<void> => {
  const size = () => [...rec.traces.values()].reduce((n, t) => n + t.length, 0)
  let last = size()
  let calm = 0
  for (let i = 0; i < max && calm < quiet; i++) {
    await new Promise((r) => setImmediate(r))
    const now = size()
    if (now === last) calm++
    else {
      calm = 0
      last = now
    }
  }
}

const apply = async (rec: Recorder, sockets: Record<Actor, Socket>, o: Op, index: number): Promise<void> => {
  const s = sockets[o.actor]
  rec.log(o.actor, `op ${o.kind}${o.kind === "write" ? ` ${o.size}` : o.kind === "setTimeout" ? ` ${o.ms}` : ""}`)
  switch (o.kind) {
    case "write": {
      const data = Buffer.alloc(o.size, 97 + (index % 26))
      const ret = s.write(data, (err) => rec.log(o.actor, "write callback", err ?? null))
      rec.log(o.actor, "write returned", ret)
      break
    }
    case "end":
      s.end()
      break
    case "pause":
      s.pause()
      break
    case "resume":
      s.resume()
      break
    case "destroy":
      s.destroy()
      break
    case "destroyWithError":
      s.destroy(new Error(`boom ${index}`))
      break
    case "setTimeout":
      s.setTimeout(o.ms)
      break
    case "idleTimeout": {
      if (s.destroyed) break
      const fired = Promise.race([once(s, "timeout"), once(s, "close")])
      s.setTimeout(5)
      await fired
      s.setTimeout(0)
      break
    }
  }
  await settle(rec)
  const out: Record<string, unknown> = {}
  for (const k of props) out[k] = k === "isPaused" ? s.isPaused() : (s as unknown as Record<string, unknown>)[k]
  rec.log(o.actor, "props", out)
}

/** The scenario that plays `ops` on a fresh connection. */
export const sequenceScenario = (ops: ReadonlyArray<Op>, allowHalfOpen: boolean) =>
  scenario("random sequence", async (net: NetLike, rec: Recorder) => {
    const server = rec.track(net.createServer({ allowHalfOpen }))
    const port = await listen(server)
    const accepted = accept(server)
    const client = rec.watch("client", net.connect({ port, host: "127.0.0.1", allowHalfOpen }), socketEvents)
    const peer = rec.watch("peer", await accepted, socketEvents)
    await once(client, "connect")
    server.close()
    await settle(rec)
    const sockets = { client, peer }
    for (let i = 0; i < ops.length; i++) await apply(rec, sockets, ops[i]!, i)
    // drain what is left, then close both ends
    client.resume()
    peer.resume()
    await settle(rec)
    client.destroy()
    peer.destroy()
    await Promise.all([
      client.closed ? undefined : once(client, "close"),
      peer.closed ? undefined : once(peer, "close")
    ])
  })

/** Sequences of one to eight operations. */
export const sequences = fc.array(op, { minLength: 1, maxLength: 8 })

/** fast-check parameters: `SLUICE_FC_RUNS` (default `defaultRuns`), a replay with `SLUICE_FC_SEED` / `SLUICE_FC_PATH`. */
export const runParameters = (defaultRuns: number): fc.Parameters<[ReadonlyArray<Op>, boolean]> => ({
  numRuns: Number(process.env["SLUICE_FC_RUNS"] ?? defaultRuns),
  endOnFailure: true,
  ...(process.env["SLUICE_FC_SEED"]
    ? { seed: Number(process.env["SLUICE_FC_SEED"]), path: process.env["SLUICE_FC_PATH"] ?? "" }
    : {})
})
