/**
 * A known difference (README, "Differences from node:net"): Node's
 * `BlockList` and `SocketAddress` are cloned by the messaging layer with their
 * native state, which JavaScript cannot do for its own objects; compat's fail
 * to clone with `DataCloneError` rather than arriving as empty objects.
 */
import { assert, describe, it } from "@effect/vitest"
import * as net from "@sluice/compat"
import { MessageChannel } from "node:worker_threads"

const cloneError = (f: () => unknown): string | undefined => {
  try {
    f()
    return undefined
  } catch (error) {
    return (error as Error).name
  }
}

describe("BlockList and SocketAddress are not cloned without their state", () => {
  const blockList = new net.BlockList()
  blockList.addAddress("10.0.0.1")
  const address = new net.SocketAddress({ address: "10.0.0.1", port: 80 })

  it("structuredClone fails with DataCloneError, also inside another object", () => {
    assert.strictEqual(cloneError(() => structuredClone(blockList)), "DataCloneError")
    assert.strictEqual(cloneError(() => structuredClone({ options: { blockList } })), "DataCloneError")
    assert.strictEqual(cloneError(() => structuredClone(address)), "DataCloneError")
  })

  it("postMessage fails with DataCloneError", () => {
    const { port1, port2 } = new MessageChannel()
    try {
      assert.strictEqual(cloneError(() => port1.postMessage(blockList)), "DataCloneError")
      assert.strictEqual(cloneError(() => port1.postMessage(address)), "DataCloneError")
    } finally {
      port1.close()
      port2.close()
    }
  })
})
