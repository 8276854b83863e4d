/**
 * What a driver hands over with each read (`HandleEvents.onData`): a chunk
 * handed over owned is the receiver's, so later reads never write into it; a
 * borrowed one is copied during the call. On every driver, through a
 * receiver that keeps owned chunks as they are, across `borrowReads()`.
 * And the node driver's raw handles: owned reads by default, lent ones once
 * asked or once reads stay small.
 */
import { assert, describe, it } from "@effect/vitest"
import type { Handle, HandleEvents } from "@sluice/core/Driver"
import { drivers } from "./drivers.ts"
import { closed, concat, dial, listen, tcp, to, write } from "./MemoryHelpers.ts"

/** Bytes `seed`, `seed + 1`, … (mod 251, so no read boundary lines up with the pattern). */
const pattern = (length: number, seed: number): Uint8Array => {
  const out = new Uint8Array(length)
  for (let i = 0; i < length; i++) out[i] = (seed + i) % 251
  return out
}

/** Keeps owned chunks themselves and copies borrowed ones; remembers what each chunk held when it arrived. */
class Keeper implements HandleEvents {
  readonly kept: Array<Uint8Array> = []
  readonly seen: Array<Uint8Array> = []
  readonly borrowed: Array<boolean> = []
  ended = false
  private watchers: Array<() => void> = []
  onData(chunk: Uint8Array, borrowed?: boolean): void {
    this.kept.push(borrowed === true ? chunk.slice() : chunk)
    this.seen.push(chunk.slice())
    this.borrowed.push(borrowed === true)
    this.notify()
  }
  onEnd(): void {
    this.ended = true
    this.notify()
  }
  onError(): void {
    this.notify()
  }
  get received(): number {
    return this.seen.reduce((n, c) => n + c.length, 0)
  }
  until(predicate: () => boolean): Promise<void> {
    return new Promise((resolve) => {
      const check = () => (predicate() ? resolve() : this.watchers.push(check))
      check()
    })
  }
  private notify(): void {
    for (const w of this.watchers.splice(0)) w()
  }
}

const assertSame = (actual: Uint8Array, expected: Uint8Array, what: string) => {
  assert.strictEqual(actual.length, expected.length, `${what}: length`)
  assert.strictEqual(actual.findIndex((b, i) => b !== expected[i]), -1, `${what}: first differing byte`)
}

/** A connected pair on `driver`: the dialled handle and the accepted one, read by a {@link Keeper}. */
const pair = async (d: (typeof drivers)[number]) => {
  const driver = d.make()
  const server = await listen(driver, tcp(d.host, 0))
  const client = await dial(driver, to(d.host, server.port))
  const accepted: Handle = await server.next()
  const keeper = new Keeper()
  accepted.bind(keeper)
  accepted.readStart()
  const release = async () => {
    await closed(client)
    await closed(accepted)
    await server.close()
  }
  return { client, accepted, keeper, release }
}

/** Writes `chunk` and waits until the reader has it all (so each small write is its own read). */
const send = async (client: Handle, keeper: Keeper, chunk: Uint8Array) => {
  const target = keeper.received + chunk.length
  assert.isUndefined(await write(client, chunk))
  await keeper.until(() => keeper.received >= target)
}

for (const d of drivers) {
  describe(`read ownership on the ${d.name} driver`, () => {
    it("owned chunks stay as they arrived while later reads come in, small and large, before and after borrowReads()", async () => {
      const { accepted, client, keeper, release } = await pair(d)
      try {
        const sent: Array<Uint8Array> = []
        const go = async (chunk: Uint8Array) => {
          sent.push(chunk)
          await send(client, keeper, chunk)
        }
        await go(pattern(300_000, 1))
        for (let i = 0; i < 6; i++) await go(pattern(10 + i, 7 * i))
        await go(pattern(200_000, 3))
        accepted.borrowReads?.()
        await go(pattern(5, 9))
        await go(pattern(150_000, 11))
        for (let i = 0; i < keeper.kept.length; i++) assertSame(keeper.kept[i]!, keeper.seen[i]!, `read ${i}`)
        assertSame(concat(keeper.kept), concat(sent), "everything sent")
      } finally {
        await release()
      }
    })
  })
}

// only where the node driver runs on libuv handles (not on Bun or Deno, whose node driver is the net.Socket one)
const raw = drivers.find((d) => d.name === "node")
if (raw !== undefined) {
  describe("the node driver's raw handles", () => {
    /**
     * Which reads the raw handle lends, for reads of these sizes: owned ones
     * until four in a row were under 4 KiB, or until the first read after
     * `borrowReads()` was called (the read numbered `askedAt`), then lent ones.
     */
    const expectedLent = (sizes: ReadonlyArray<number>, askedAt = Infinity): Array<boolean> => {
      let lent = false
      let small = 0
      return sizes.map((size, i) => {
        if (lent) return true
        if (i >= askedAt) lent = true
        else if (size >= 4096) small = 0
        else if (++small >= 4) lent = true
        return false
      })
    }

    it("hand large reads over owned and lend reads once they stay small", async () => {
      const { client, keeper, release } = await pair(raw)
      try {
        await send(client, keeper, pattern(200_000, 1))
        const large = keeper.borrowed.length
        for (let i = 0; i < 6; i++) await send(client, keeper, pattern(64, i))
        await send(client, keeper, pattern(200_000, 2))
        const sizes = keeper.seen.map((c) => c.length)
        assert.deepStrictEqual(keeper.borrowed, expectedLent(sizes))
        // the large write's reads were owned; the small ones made the handle lend, for good
        assert.isFalse(keeper.borrowed[0])
        assert.isTrue(keeper.borrowed.slice(large + 6).every((b) => b))
      } finally {
        await release()
      }
    })

    it("lend every read from the one after borrowReads() on", async () => {
      const { accepted, client, keeper, release } = await pair(raw)
      try {
        await send(client, keeper, pattern(100_000, 4))
        const before = keeper.borrowed.length
        accepted.borrowReads?.()
        await send(client, keeper, pattern(200_000, 5))
        await send(client, keeper, pattern(64, 6))
        const sizes = keeper.seen.map((c) => c.length)
        assert.deepStrictEqual(keeper.borrowed, expectedLent(sizes, before))
        assert.isTrue(keeper.borrowed.at(-1), "lent after the switch")
      } finally {
        await release()
      }
    })
  })
}
