/**
 * Linux errno numbers and descriptions for the codes Sluice classifies. The
 * node adapter passes the platform's own numbers through; the memory network
 * and the error classes use these, so errors that did not come from a kernel
 * still look like a Linux kernel's.
 *
 * @since 0.1.0
 */

/**
 * The errno number (negative, as libuv reports it) and the `strerror`-style
 * description of each code Sluice classifies.
 *
 * @example
 * ```ts
 * import { Errno } from "@sluice/core"
 *
 * Errno.errnoTable.ECONNREFUSED // [-111, "connection refused"]
 * ```
 *
 * @category errno
 * @since 0.1.0
 */
export const errnoTable: Readonly<Record<string, readonly [errno: number, description: string]>> = {
  EPERM: [-1, "operation not permitted"],
  ENOENT: [-2, "no such file or directory"],
  EBADF: [-9, "bad file descriptor"],
  EAGAIN: [-11, "resource temporarily unavailable"],
  EACCES: [-13, "permission denied"],
  ENOTDIR: [-20, "not a directory"],
  EINVAL: [-22, "invalid argument"],
  EMFILE: [-24, "too many open files"],
  EPIPE: [-32, "broken pipe"],
  ENOTSOCK: [-88, "socket operation on non-socket"],
  ENOTSUP: [-95, "operation not supported on socket"],
  EAFNOSUPPORT: [-97, "address family not supported"],
  EADDRINUSE: [-98, "address already in use"],
  EADDRNOTAVAIL: [-99, "address not available"],
  ENETDOWN: [-100, "network is down"],
  ENETUNREACH: [-101, "network is unreachable"],
  ECONNABORTED: [-103, "software caused connection abort"],
  ECONNRESET: [-104, "connection reset by peer"],
  ENOBUFS: [-105, "no buffer space available"],
  EISCONN: [-106, "socket is already connected"],
  ENOTCONN: [-107, "socket is not connected"],
  ETIMEDOUT: [-110, "connection timed out"],
  ECONNREFUSED: [-111, "connection refused"],
  EHOSTUNREACH: [-113, "host is unreachable"],
  ECANCELED: [-125, "operation canceled"],
  EAI_AGAIN: [-3001, "temporary failure"],
  EAI_FAIL: [-3002, "permanent failure"],
  EAI_NODATA: [-3007, "no address"],
  ENOTFOUND: [-3008, "unknown node or service"]
}

/**
 * The errno number for a code, or `undefined` for codes the table lacks.
 *
 * @category errno
 * @since 0.1.0
 */
export const errnoOf = (code: string): number | undefined => errnoTable[code]?.[0]
