/**
 * The memory network's errors, shaped as the node adapter's.
 *
 * @internal
 */
import type { DriverError } from "../../Driver.ts"
import { errnoTable } from "../../Errno.ts"

/** A driver error shaped like the node adapter's for the same situation. */
export const error = (
  code: string,
  syscall: string,
  address?: string | undefined,
  port?: number | undefined
): DriverError => {
  const entry = errnoTable[code]
  return {
    code,
    errno: entry?.[0],
    syscall,
    address,
    // as node's errors: a port of 0 is left out
    port: port === 0 ? undefined : port,
    cause: `${syscall} ${code}${entry === undefined ? "" : ` (${entry[1]})`} on the memory network`
  }
}
