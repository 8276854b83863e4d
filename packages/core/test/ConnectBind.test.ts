/**
 * A local address or port that cannot be bound ends the connect before any
 * attempt, as Node's `internalConnect` binds first: the failure is the bind's
 * (`syscall: "bind"`, the local address and port), the observer sees no
 * attempt and no failed attempt, and nothing is dialled. An address the block
 * list blocks is announced, then refused before the dial. On every driver.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Engine from "@sluice/core/Engine"
import { drivers } from "./drivers.ts"
import { listen, settle, tcp } from "./MemoryHelpers.ts"

type Outcome = { readonly failure: Engine.ConnectFailure | undefined; readonly events: Array<string> }

const connect = (driver: Parameters<typeof Engine.connect>[0], request: Engine.ConnectRequest): Promise<Outcome> =>
  new Promise((resolve) => {
    const events: Array<string> = []
    Engine.connect(driver, request, {
      onAttempt: (address, port) => events.push(`attempt ${address}:${port}`),
      onAttemptFailed: (address, port, _family, error) => events.push(`failed ${address}:${port} ${error.code}`)
    }, (failure, connected) => {
      connected?.handle.close(() => {})
      resolve({ failure, events })
    })
  })

const request = (host: string, port: number, local: { localAddress?: string; localPort?: number }) => ({
  _tag: "Tcp" as const,
  host,
  port,
  family: 4 as const,
  hints: 0,
  autoSelectFamily: false,
  autoSelectFamilyAttemptTimeoutMs: 250,
  ...local
})

for (const d of drivers) {
  describe(`binding before the attempt on the ${d.name} driver`, () => {
    it("a taken local port: a bind error, no attempt announced", async () => {
      const driver = d.make()
      const server = await listen(driver, tcp(d.host, 0))
      const target = await listen(driver, tcp(d.host, 0))
      try {
        const { failure, events } = await connect(
          driver,
          request(d.host, target.port, { localAddress: d.host, localPort: server.port })
        )
        assert.strictEqual(failure?.error.code, "EADDRINUSE")
        assert.strictEqual(failure?.error.syscall, "bind")
        assert.strictEqual(failure?.error.port, server.port)
        assert.deepStrictEqual(failure?.attempts.map((a) => a.outcome), ["failed"])
        assert.deepStrictEqual(events.filter((e) => !e.startsWith("attempt ")), [])
        if (d.name !== "node (net.Socket)") assert.deepStrictEqual(events, [])
      } finally {
        await server.close()
        await target.close()
      }
    })

    it("a blocked address: announced, then refused without a dial", async () => {
      const driver = d.make()
      const target = await listen(driver, tcp(d.host, 0))
      try {
        const { failure, events } = await connect(driver, {
          ...request(d.host, target.port, {}),
          blocked: () => true
        })
        assert.strictEqual(failure?.error.code, "ERR_IP_BLOCKED")
        assert.deepStrictEqual(events, [`attempt ${d.host}:${target.port}`])
        await settle(10)
        assert.strictEqual(target.accepted.length, 0)
      } finally {
        await target.close()
      }
    })
  })
}
