/**
 * `net.BoundSocket`: a socket bound synchronously, for `listen()` or
 * `new net.Socket({ handle })` to adopt. Sluice drivers bind asynchronously,
 * so compat validates the options as Node does and then reports `ENOTSUP`.
 *
 * @since 0.1.0
 */
import { isIP } from "@sluice/core/Address"
import { ERR_INVALID_ARG_VALUE, unsupported } from "./errors.ts"
import * as Validate from "./internal/validate.ts"
import type { AddressInfo } from "./Server.ts"

/**
 * Options of `new net.BoundSocket()`.
 *
 * @category models
 * @since 0.1.0
 */
export interface BoundSocketOptions {
  host?: string | undefined
  port?: number | undefined
  ipv6Only?: boolean | undefined
  reusePort?: boolean | undefined
  path?: string | undefined
}

/**
 * `net.BoundSocket` (not supported: every construction throws `ENOTSUP`
 * after Node's own validation).
 *
 * @category models
 * @since 0.1.0
 */
export class BoundSocket {
  constructor(options: BoundSocketOptions = {}) {
    Validate.validateObject(options, "options")
    if (options.path !== undefined) {
      const { host, port, ipv6Only, reusePort } = options
      if (host !== undefined || port !== undefined || ipv6Only !== undefined || reusePort !== undefined) {
        throw ERR_INVALID_ARG_VALUE(
          "options",
          options,
          "path is mutually exclusive with host, port, ipv6Only, and reusePort"
        )
      }
      Validate.validateString(options.path, "options.path")
      if (options.path[0] === "\0" && process.platform !== "linux") {
        throw ERR_INVALID_ARG_VALUE("options.path", options.path, "abstract socket paths are only supported on Linux")
      }
    } else {
      Validate.validatePort(options.port ?? 0, "options.port")
      Validate.validateBoolean(options.ipv6Only ?? false, "options.ipv6Only")
      Validate.validateBoolean(options.reusePort ?? false, "options.reusePort")
      if (options.host !== undefined && options.host !== null) {
        Validate.validateString(options.host, "options.host")
        if (isIP(options.host) === 0) {
          throw ERR_INVALID_ARG_VALUE(
            "options.host",
            options.host,
            "must be a numeric IP address; net.BoundSocket does not perform DNS resolution"
          )
        }
      }
    }
    throw unsupported("bind", "net.BoundSocket needs a synchronous bind, which Sluice's drivers do not offer")
  }

  address(): AddressInfo {
    throw unsupported("getsockname", "net.BoundSocket is not supported")
  }

  fd(): number {
    return -1
  }

  close(): void {}

  [Symbol.dispose](): void {}
}
