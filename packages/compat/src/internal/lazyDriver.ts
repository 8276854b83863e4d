/**
 * A driver whose implementation is loaded when it is first used: its name,
 * capabilities or timers read, or one of its operations called. `@sluice/compat`
 * binds its `net` to the node driver this way, so that importing compat (as a
 * program does that only requires `net`, or every program under
 * `--import @sluice/compat/register`) does not load the driver's modules until
 * a socket, a server or a lookup needs them — as `node:net` takes `node:dns`
 * at its first lookup.
 */
import type { Driver } from "@sluice/core/Driver"

/** A driver that calls `load` once, at its first use, and forwards everything to what it returns. */
export const lazyDriver = (load: () => Driver): Driver => {
  let loaded: Driver | undefined
  const driver = (): Driver => (loaded ??= load())
  const lazy: Driver = {
    get name() {
      return driver().name
    },
    get capabilities() {
      return driver().capabilities
    },
    get timers() {
      return driver().timers
    },
    connect: (target, callback) => driver().connect(target, callback),
    listen: (target, events, callback) => driver().listen(target, events, callback),
    lookup: (hostname, options, callback) => driver().lookup(hostname, options, callback)
  }
  // `open` and `adopt` are there exactly when the loaded driver has them (callers test for them)
  Object.defineProperty(lazy, "open", { get: () => driver().open, enumerable: true })
  Object.defineProperty(lazy, "adopt", { get: () => driver().adopt, enumerable: true })
  return lazy
}
