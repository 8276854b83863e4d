/**
 * Whether a value is a compat `net.Socket` and not a `node:net` one: what the
 * real-client tests check on the sockets the clients used.
 *
 * (A plain predicate rather than `assert.instanceOf`: compat's Socket type is
 * assignable to `node:net`'s, so type narrowing by the two assertions would
 * leave `never`.)
 *
 * @since 0.1.0
 */
import { Socket } from "@sluice/compat"
import * as realNet from "node:net"

/**
 * `true` for a compat socket, `false` for a `node:net` one or anything else.
 *
 * @since 0.1.0
 */
export const isCompatSocket = (value: unknown): boolean => value instanceof Socket && !(value instanceof realNet.Socket)
