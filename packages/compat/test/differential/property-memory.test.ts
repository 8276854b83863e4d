/**
 * Property: for random sequences of write / end / pause / resume /
 * setTimeout / destroy on both ends of a connection, compat over the memory
 * network has node:net's trace. The generator and the scenario live in
 * `sequence.ts` (shared with `property.test.ts`).
 *
 * This holds only if the memory driver delivers bytes on the same turns as
 * the kernel: on loopback, Linux holds a small write back (Nagle's algorithm)
 * while an earlier small segment waits for a delayed ACK, so a peer can miss
 * bytes written before a destroy, or receive them only with its own answer.
 * The cases below are sequences the property found while the memory driver
 * did not model that.
 */
import { assert, describe, it } from "@effect/vitest"
import { createNet } from "@sluice/compat"
import * as MemoryNetwork from "@sluice/core/MemoryNetwork"
import * as fc from "fast-check"
import * as nodeNet from "node:net"
import { diffText, runScenario, show } from "./harness.ts"
import type { NetLike } from "./harness.ts"
import { runParameters, sequences, sequenceScenario } from "./sequence.ts"
import type { Actor, Op } from "./sequence.ts"

const memoryNet = () => createNet(MemoryNetwork.make().driver) as unknown as NetLike

const check = async (ops: ReadonlyArray<Op>, allowHalfOpen: boolean): Promise<void> => {
  const s = sequenceScenario(ops, allowHalfOpen)
  const expected = await runScenario(s, nodeNet)
  const actual = await runScenario(s, memoryNet())
  assert.deepStrictEqual(actual, expected, `traces differ for ${show(ops)}\n${diffText(expected, actual)}`)
}

const write = (actor: Actor, size: number): Op => ({ actor, kind: "write", size })
const act = (actor: Actor, kind: "end" | "pause" | "resume" | "destroy"): Op => ({ actor, kind })
const idle = (actor: Actor): Op => ({ actor, kind: "idleTimeout" })
const setTimeout = (actor: Actor, ms: 0 | 60_000): Op => ({ actor, kind: "setTimeout", ms })

const found: ReadonlyArray<readonly [string, ReadonlyArray<Op>]> = [
  [
    "a small write waits for the ACK of the previous one, which an interactive peer delays; its own write carries it",
    [
      write("client", 18902),
      write("peer", 12251),
      write("client", 13967),
      setTimeout("client", 0),
      write("client", 9618),
      idle("peer"),
      write("peer", 13487)
    ]
  ],
  [
    "a read that frees a large part of a young connection's window is acknowledged at once",
    [
      act("client", "pause"),
      idle("client"),
      write("peer", 7),
      write("client", 2078),
      write("peer", 12707),
      write(
        "peer",
        14
      ),
      write("peer", 10365)
    ]
  ],
  [
    "how much of the window a read must free grows with the bytes received before",
    [
      act("peer", "resume"),
      write("client", 909),
      write("peer", 9583),
      write("client", 14023),
      write("client", 8303),
      setTimeout("peer", 60_000)
    ]
  ],
  [
    "an acknowledgement riding on data counts when that data arrives (after the data it acknowledges left)",
    [
      write("peer", 11590),
      write("client", 2591),
      write("peer", 19737),
      write("peer", 15222),
      write("peer", 8743),
      write("client", 5497),
      write("client", 19386),
      setTimeout("client", 60_000)
    ]
  ],
  [
    "a bare FIN does not make the peer interactive",
    [
      write("client", 10270),
      write("client", 3141),
      act("peer", "end"),
      write("client", 4273),
      write(
        "client",
        19944
      ),
      idle("peer"),
      act("peer", "end")
    ]
  ],
  [
    "a young connection's sender sends segments of half the window the receiver announced: held bytes past it go",
    [
      write("client", 778),
      write("peer", 3367),
      write("peer", 13471),
      write("client", 8257),
      write("client", 15254),
      write("client", 19998),
      write("peer", 1),
      act("peer", "end")
    ]
  ],
  [
    "a paused reader, then the writer destroys",
    [
      write("client", 2013),
      write("peer", 9721),
      setTimeout("client", 0),
      act("peer", "pause"),
      write("client", 14),
      write("client", 4116),
      act("client", "destroy")
    ]
  ]
]

describe("compat over the memory network matches node:net on random operation sequences", () => {
  for (const [name, ops] of found) it(name, () => check(ops, true))

  it("write / end / pause / resume / setTimeout / destroy on both ends", async () => {
    await fc.assert(fc.asyncProperty(sequences, fc.boolean(), check), runParameters(30))
  }, 120_000)
})
