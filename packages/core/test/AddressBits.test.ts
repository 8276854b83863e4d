import { assert, describe, it } from "@effect/vitest"
import * as Address from "@sluice/core/Address"

describe("Address as numbers", () => {
  it("IPv4 is its IPv4-mapped IPv6 form", () => {
    assert.strictEqual(Address.toBits("10.0.0.1", 4), Address.toBits("::ffff:10.0.0.1", 6))
    assert.strictEqual(Address.toBits("0.0.0.1", 4), (0xffffn << 32n) | 1n)
  })
  it("rejects what is not an address of the family", () => {
    assert.isUndefined(Address.toBits("::1", 4))
    assert.isUndefined(Address.toBits("1.2.3.4", 6))
    assert.isUndefined(Address.toBits("nope", 6))
  })
  it("writes the canonical text inet_ntop writes", () => {
    const cases: ReadonlyArray<readonly [string, string]> = [
      ["0:0::1", "::1"],
      ["2001:DB8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
      ["1:0:0:2::3", "1:0:0:2::3"],
      ["::ffff:c0a8:0101", "::ffff:192.168.1.1"],
      ["::1.2.3.4", "::1.2.3.4"],
      ["::0.0.0.5", "::5"],
      ["fe80::1%eth0", "fe80::1"],
      ["1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304"]
    ]
    for (const [input, text] of cases) assert.strictEqual(Address.fromBits(Address.toBits(input, 6)!, 6), text, input)
    assert.strictEqual(Address.fromBits(Address.toBits("192.168.0.1", 4)!, 4), "192.168.0.1")
  })
  it("prefix masks select the network", () => {
    const net = Address.toBits("10.0.0.0", 4)!
    const mask = Address.prefixMask(4, 8)
    assert.strictEqual(Address.toBits("10.200.3.4", 4)! & mask, net & mask)
    assert.notStrictEqual(Address.toBits("11.0.0.1", 4)! & mask, net & mask)
    assert.strictEqual(Address.toBits("::1", 6)! & Address.prefixMask(6, 128), 1n)
  })
})
