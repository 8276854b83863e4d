/**
 * `@sluice/compat`: a drop-in `node:net` on Sluice's engine, over the node
 * driver. `import net from "@sluice/compat"` (or the named exports) replaces
 * `require("net")`; `createNet(driver)` builds the same module over any driver.
 *
 * @since 0.1.0
 */
import { driver } from "@sluice/node-adapter/NodeDriver"
import { createNet } from "./net.ts"

export { createNet } from "./net.ts"
export type { ConnectFunction, Net } from "./net.ts"

/**
 * `node:net` over the node driver.
 *
 * @category modules
 * @since 0.1.0
 */
const net = createNet(driver)

export default net

/** @category modules @since 0.1.0 */
export const {
  Socket,
  Stream,
  Server,
  BlockList,
  SocketAddress,
  createServer,
  connect,
  createConnection,
  isIP,
  isIPv4,
  isIPv6,
  getDefaultAutoSelectFamily,
  setDefaultAutoSelectFamily,
  getDefaultAutoSelectFamilyAttemptTimeout,
  setDefaultAutoSelectFamilyAttemptTimeout
} = net
