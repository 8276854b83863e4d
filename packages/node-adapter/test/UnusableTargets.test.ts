/**
 * The node driver never hands libuv what it asserts on: a connect target
 * whose host is not a string (libuv's `TCPWrap::Connect` aborts the process
 * on one) or not an IP address of the family given, a port that is not an
 * integer, a local address that is not an IP address, a path that is not a
 * string — each is refused with a typed `EINVAL` driver error, on a later
 * turn; `listen` and `lookup` report node:net's refusals instead of throwing.
 * Both node drivers (libuv handles, `net.Socket`) keep it.
 */
import { assert, describe, it } from "@effect/vitest"
import type { ConnectTarget, Driver, DriverError } from "@sluice/core/Driver"
import { driver as rawDriver, netSocketDriver } from "@sluice/node-adapter/NodeDriver"

const targets: ReadonlyArray<readonly [string, ConnectTarget]> = [
  ["an array host", { _tag: "Tcp", address: ["127.0.0.1"] as unknown as string, port: 9, family: 4 }],
  ["a boxed host", { _tag: "Tcp", address: Object("127.0.0.1") as string, port: 9, family: 4 }],
  ["a host name", { _tag: "Tcp", address: "localhost", port: 9, family: 4 }],
  ["an IPv6 host as IPv4", { _tag: "Tcp", address: "::1", port: 9, family: 4 }],
  ["a fractional port", { _tag: "Tcp", address: "127.0.0.1", port: 1.5, family: 4 }],
  ["a port out of range", { _tag: "Tcp", address: "127.0.0.1", port: 70000, family: 4 }],
  ["a local address that is no address", { _tag: "Tcp", address: "127.0.0.1", port: 9, family: 4, localAddress: "x" }],
  [
    "a local port that is not a number",
    { _tag: "Tcp", address: "127.0.0.1", port: 9, family: 4, localPort: "1" as unknown as number }
  ],
  ["a path that is not a string", { _tag: "Ipc", path: 1 as unknown as string }]
]

const dial = (driver: Driver, target: ConnectTarget): Promise<{ sync: boolean; error: DriverError | undefined }> =>
  new Promise((resolve) => {
    let returned = false
    driver.connect(target, (error, handle) => {
      handle?.close(() => {})
      resolve({ sync: !returned, error })
    })
    returned = true
  })

for (const [name, driver] of [["node", rawDriver], ["node (net.Socket)", netSocketDriver]] as const) {
  describe(`the ${name} driver refuses what libuv would assert on`, () => {
    for (const [what, target] of targets) {
      it(`connect: ${what} is EINVAL on a later turn`, async () => {
        const { sync, error } = await dial(driver, target)
        assert.isFalse(sync)
        assert.strictEqual(error?.code, "EINVAL")
        assert.strictEqual(error?.syscall, "connect")
      })
    }

    it("listen on a host that is not a string reports an error instead of throwing", async () => {
      const error = await new Promise<DriverError | undefined>((resolve) => {
        const target = {
          _tag: "Tcp" as const,
          host: ["127.0.0.1"] as unknown as string,
          port: 0,
          backlog: 511,
          exclusive: false,
          ipv6Only: false,
          reusePort: false
        }
        driver.listen(target, { onConnection: (h) => h.close(() => {}), onError: () => {} }, (e, listener) => {
          listener?.close(() => {})
          resolve(e)
        })
      })
      assert.strictEqual(error?.code, "ERR_INVALID_ARG_TYPE")
    })

    it("lookup of a host name that is not a string reports EINVAL instead of throwing", async () => {
      const error = await new Promise<DriverError | undefined>((resolve) => {
        driver.lookup(["localhost"] as unknown as string, { family: 0, hints: 0, all: false }, (e) => resolve(e))
      })
      assert.strictEqual(error?.code, "EINVAL")
    })
  })
}
