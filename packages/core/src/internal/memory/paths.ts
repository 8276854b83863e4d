/**
 * Local socket paths on the memory network: what a bind and a connect find at
 * a path, as a Linux kernel and libuv report it.
 *
 * The network's own listeners occupy their paths (the network's own file
 * system: a socket file exists while its listener does, as libuv removes it
 * on close). Anything else at a path — files, directories, missing
 * directories — is the host's, known only through the `Paths` the network
 * was given (the node adapter's `NodeDriver.paths` answers from the real
 * file system); without it every directory exists and nothing else is there.
 *
 * @internal
 */

import type { PathKind, Paths } from "../../MemoryNetwork.ts"

/** Names that are not file system paths: Linux's abstract namespace, Windows named pipes. */
const unnamed = (path: string): boolean =>
  path.startsWith("\0") || path.startsWith("\\\\.\\pipe\\") || path.startsWith("\\\\?\\pipe\\")

/** The directory a path's entry would be made in (`.` for a bare name). */
export const parentOf = (path: string): string => {
  const trimmed = path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path
  const i = trimmed.lastIndexOf("/")
  return i < 0 ? "." : i === 0 ? "/" : trimmed.slice(0, i)
}

/** Asks `paths`; a check that throws is an answer too (the path cannot be reached). */
const kindOf = (paths: Paths, path: string): PathKind => {
  try {
    return paths.kind(path)
  } catch {
    return "denied"
  }
}

/**
 * The errno code binding `path` fails with, `undefined` when it may be bound.
 * An existing entry of any kind is `EADDRINUSE` (a socket file nobody listens
 * on is removed first with `removeStale`); a missing directory is `EACCES`, as
 * libuv reports a bind's `ENOENT`; a file where a directory should be is
 * `ENOTDIR`.
 */
export const bindFailure = (paths: Paths | undefined, path: string, removeStale: boolean): string | undefined => {
  if (paths === undefined || unnamed(path)) return undefined
  switch (kindOf(paths, path)) {
    case "directory":
    case "file":
      return "EADDRINUSE"
    case "socket":
      return removeStale ? undefined : "EADDRINUSE"
    case "notDirectory":
      return "ENOTDIR"
    case "denied":
      return "EACCES"
    case "missing":
      break
  }
  switch (kindOf(paths, parentOf(path))) {
    case "directory":
      return undefined
    case "file":
    case "socket":
    case "notDirectory":
      return "ENOTDIR"
    case "missing":
    case "denied":
      return "EACCES"
  }
}

/**
 * The errno code connecting to `path` fails with when no listener of the
 * network is there: `ENOENT` for nothing at all, `ECONNREFUSED` for a file, a
 * directory or a socket file nobody listens on.
 */
export const connectFailure = (paths: Paths | undefined, path: string): string => {
  if (paths === undefined || unnamed(path)) return "ENOENT"
  switch (kindOf(paths, path)) {
    case "missing":
      return "ENOENT"
    case "notDirectory":
      return "ENOTDIR"
    case "denied":
      return "EACCES"
    case "directory":
    case "file":
    case "socket":
      return "ECONNREFUSED"
  }
}
