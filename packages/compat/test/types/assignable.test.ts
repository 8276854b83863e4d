/**
 * Type test (checked by `tsc -b`): compat's module is assignable to
 * `@types/node`'s `net`, so code typed against `node:net` accepts it.
 */
import { assert, describe, it } from "@effect/vitest"
import * as compat from "@sluice/compat"
import compatDefault from "@sluice/compat"
import type * as NodeNet from "node:net"

const asModule: typeof NodeNet = compat
const asDefault: typeof NodeNet = compatDefault

describe("typings", () => {
  it("the module and its default export have node:net's type", () => {
    assert.strictEqual(asModule.createServer, compat.createServer)
    assert.strictEqual(asDefault.Socket, compat.Socket)
  })
})
