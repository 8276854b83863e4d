/**
 * Inputs on which node:net 24 itself aborts the process (a native check
 * fails): compat cannot match a crash, and throws Node's range error instead.
 * These stay out of the differential sweep (`differential/inputs.ts`).
 */
import { assert, describe, it } from "@effect/vitest"
import * as net from "@sluice/compat"

const thrown = (f: () => unknown): { code?: string; message?: string } | undefined => {
  try {
    f()
    return undefined
  } catch (error) {
    return error as { code?: string; message?: string }
  }
}

describe("where node:net aborts, compat throws", () => {
  it("a SocketAddress flow label over 20 bits on IPv6 is ERR_OUT_OF_RANGE", () => {
    for (const flowlabel of [2 ** 20, 2 ** 31, 2 ** 32 - 1]) {
      const error = thrown(() => new net.SocketAddress({ address: "::1", family: "ipv6", flowlabel }))
      assert.strictEqual(error?.code, "ERR_OUT_OF_RANGE")
      assert.include(error?.message, "\"options.flowlabel\"")
    }
    assert.strictEqual(
      new net.SocketAddress({ address: "::1", family: "ipv6", flowlabel: 2 ** 20 - 1 }).flowlabel,
      2 ** 20 - 1
    )
  })

  it("a SocketAddress flow label from 2^31 on IPv4 is no flow label (IPv4 has none)", () => {
    assert.strictEqual(new net.SocketAddress({ address: "1.2.3.4", flowlabel: 2 ** 31 }).flowlabel, 0)
  })
})
