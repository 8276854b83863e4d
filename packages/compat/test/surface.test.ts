/**
 * The surface of compat against the running `node:net`: every module member
 * and every string-named prototype member of `Socket`, `Server`, `BlockList`
 * and `SocketAddress` exists in compat, except the few libuv-specific
 * internals listed here (see README, "Differences").
 */
import { assert, describe, it } from "@effect/vitest"
import * as compat from "@sluice/compat"
import { execFileSync } from "node:child_process"
import * as nodeNet from "node:net"
import nodeNetModule from "node:net"

/** Internals tied to libuv handles or the cluster module. */
const notProvided = new Set(["_createServerHandle", "_listen2", "_setupWorker"])

const members = (C: { prototype: object }): Set<string> => {
  const out = new Set<string>()
  for (let p: object | null = C.prototype; p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const k of Object.getOwnPropertyNames(p)) out.add(k)
  }
  return out
}

const missing = (expected: Iterable<string>, actual: Set<string>) =>
  [...expected].filter((k) => !actual.has(k) && !notProvided.has(k))

describe("compat's surface covers node:net's", () => {
  it("module members", () => {
    assert.deepStrictEqual(missing(Object.keys(nodeNetModule), new Set(Object.keys(compat))), [])
  })
  for (const name of ["Socket", "Server", "BlockList", "SocketAddress"] as const) {
    it(`${name}.prototype members`, () => {
      const node = (nodeNet as unknown as Record<string, { prototype: object }>)[name]!
      const mine = (compat as unknown as Record<string, { prototype: object }>)[name]!
      assert.deepStrictEqual(missing(members(node), members(mine)), [])
    })
  }
  it("a new Socket has the same own keys as Node's", () => {
    const a = new nodeNet.Socket()
    const b = new compat.Socket()
    assert.deepStrictEqual(Object.keys(b).toSorted(), Object.keys(a).toSorted())
    a.destroy()
    b.destroy()
  })
  it("a new Server has the same own keys as Node's", () => {
    assert.deepStrictEqual(Object.keys(new compat.Server()).toSorted(), Object.keys(new nodeNet.Server()).toSorted())
  })
})

describe("the autoSelectFamily defaults follow Node's command-line flags", () => {
  it("--no-network-family-autoselection and the attempt timeout flag", () => {
    const script = [
      "import * as compat from '@sluice/compat'",
      "import net from 'node:net'",
      "console.log(JSON.stringify([",
      "  [net.getDefaultAutoSelectFamily(), net.getDefaultAutoSelectFamilyAttemptTimeout()],",
      "  [compat.getDefaultAutoSelectFamily(), compat.getDefaultAutoSelectFamilyAttemptTimeout()]",
      "]))"
    ].join("\n")
    const out = execFileSync(process.execPath, [
      "--no-network-family-autoselection",
      "--network-family-autoselection-attempt-timeout=500",
      "--input-type=module",
      "-e",
      script
    ], { cwd: import.meta.dirname, encoding: "utf8" })
    const [node, mine] = JSON.parse(out) as [unknown, unknown]
    assert.deepStrictEqual(node, [false, 500])
    assert.deepStrictEqual(mine, node)
  })
})
