/**
 * @sluice/node-adapter — the node:net driver.
 *
 * @since 0.1.0
 */
export * as Certificates from "./Certificates.ts"
export * as NodeDriver from "./NodeDriver.ts"
export * as NodeNetwork from "./NodeNetwork.ts"
export * as NodeTls from "./NodeTls.ts"
