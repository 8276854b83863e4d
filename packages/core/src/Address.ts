/**
 * IP address recognition and endpoint formatting, shared by both faces.
 *
 * @since 0.1.0
 */
import type { Endpoint } from "./Driver.ts"

const v4Seg = "(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])"
const v4Str = `(?:${v4Seg}\\.){3}${v4Seg}`
const IPv4Reg = new RegExp(`^${v4Str}$`)
const v6Seg = "(?:[0-9a-fA-F]{1,4})"
const IPv6Reg = new RegExp(
  "^(?:"
    + `(?:${v6Seg}:){7}(?:${v6Seg}|:)|`
    + `(?:${v6Seg}:){6}(?:${v4Str}|:${v6Seg}|:)|`
    + `(?:${v6Seg}:){5}(?::${v4Str}|(?::${v6Seg}){1,2}|:)|`
    + `(?:${v6Seg}:){4}(?:(?::${v6Seg}){0,1}:${v4Str}|(?::${v6Seg}){1,3}|:)|`
    + `(?:${v6Seg}:){3}(?:(?::${v6Seg}){0,2}:${v4Str}|(?::${v6Seg}){1,4}|:)|`
    + `(?:${v6Seg}:){2}(?:(?::${v6Seg}){0,3}:${v4Str}|(?::${v6Seg}){1,5}|:)|`
    + `(?:${v6Seg}:){1}(?:(?::${v6Seg}){0,4}:${v4Str}|(?::${v6Seg}){1,6}|:)|`
    + `(?::(?:(?::${v6Seg}){0,5}:${v4Str}|(?::${v6Seg}){1,7}|:))`
    + ")(?:%[0-9a-zA-Z-.:]{1,})?$"
)

/**
 * `true` when `input` is a dotted-quad IPv4 address.
 *
 * @category predicates
 * @since 0.1.0
 */
export const isIPv4 = (input: string): boolean => IPv4Reg.test(input)

/**
 * `true` when `input` is an IPv6 address (an optional `%zone` suffix allowed).
 *
 * @category predicates
 * @since 0.1.0
 */
export const isIPv6 = (input: string): boolean => IPv6Reg.test(input)

/**
 * `4` for an IPv4 address, `6` for an IPv6 address, `0` otherwise.
 *
 * @example
 * ```ts
 * import { Address } from "@sluice/core"
 *
 * Address.isIP("::1") // 6
 * Address.isIP("localhost") // 0
 * ```
 *
 * @category predicates
 * @since 0.1.0
 */
export const isIP = (input: string): 0 | 4 | 6 => (isIPv4(input) ? 4 : isIPv6(input) ? 6 : 0)

/**
 * Formats an endpoint for people: `127.0.0.1:80`, `[::1]:80`, or the IPC path.
 *
 * @category formatting
 * @since 0.1.0
 */
export const format = (endpoint: Endpoint): string =>
  endpoint._tag === "Ipc"
    ? endpoint.path
    : endpoint.family === "IPv6"
    ? `[${endpoint.address}]:${endpoint.port}`
    : `${endpoint.address}:${endpoint.port}`
