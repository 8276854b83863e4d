/**
 * The stall watch: what on the memory network waits for its clock when the
 * clock stands still. Under `TestClock` virtual time moves only when a test
 * moves it; a connect across a latency, or a close bounded by its close
 * timeout, then waits for a clock nobody moves and the test hangs with no
 * sign of why. The watch notices it on real time: when nothing ran on the
 * network and its clock did not move for the stall timeout, every wait still
 * registered ends (a connect fails, a close aborts) with a message naming
 * the cause.
 *
 * On real timers the clock always moves: nothing is ever stalled.
 *
 * @internal
 */

/** One thing that waits for the network's clock. */
export interface Waiting {
  /** What waits, for how long and why (the start of the message). */
  readonly describe: () => string
  /** The clock stood still: end the wait, with `message` naming the cause. */
  readonly stalled: (message: string) => void
}

/** What the watch reads of its network: its clock and how much work it has run. */
export interface Watched {
  readonly now: () => number
  readonly work: () => number
}

interface Host {
  readonly setTimeout: (f: () => void, ms: number) => unknown
  readonly clearTimeout: (t: unknown) => void
}

const host = globalThis as unknown as Host

/** Checks per stall timeout: a stall is seen over several checks, not one late timer (a paused process). */
const CHECKS = 10

export class StallWatch {
  private readonly waits = new Set<Waiting>()
  private readonly watched: Watched
  private readonly limitMs: number
  private timer: unknown = undefined
  private lastNow = 0
  private lastWork = 0
  private quiet = 0
  private quietSince = 0

  constructor(watched: Watched, limitMs: number) {
    this.watched = watched
    this.limitMs = limitMs
  }

  /** Watches `wait` until the returned function is called. */
  watch(wait: Waiting): () => void {
    this.waits.add(wait)
    if (this.timer === undefined) this.start()
    return () => {
      this.waits.delete(wait)
      if (this.waits.size === 0) this.stop()
    }
  }

  private start(): void {
    this.lastNow = this.watched.now()
    this.lastWork = this.watched.work()
    this.quiet = 0
    this.quietSince = Date.now()
    this.arm()
  }

  private arm(): void {
    const timer = host.setTimeout(this.check, this.limitMs / CHECKS) as { unref?: () => void }
    if (typeof timer === "object" && timer !== null && typeof timer.unref === "function") timer.unref()
    this.timer = timer
  }

  private stop(): void {
    if (this.timer !== undefined) host.clearTimeout(this.timer)
    this.timer = undefined
  }

  private readonly check = (): void => {
    this.timer = undefined
    if (this.waits.size === 0) return
    const now = this.watched.now()
    const work = this.watched.work()
    if (now !== this.lastNow || work !== this.lastWork) {
      this.lastNow = now
      this.lastWork = work
      this.quiet = 0
      this.quietSince = Date.now()
    } else if (++this.quiet >= CHECKS && Date.now() - this.quietSince >= this.limitMs) {
      const seconds = Math.round((Date.now() - this.quietSince) / 100) / 10
      const waits = [...this.waits]
      this.waits.clear()
      for (const wait of waits) {
        wait.stalled(
          `${wait.describe()}, and the memory network's clock stood still for ${seconds} s of real time `
            + `with nothing else to do (under TestClock, virtual time moves only with TestClock.adjust)`
        )
      }
      return
    }
    this.arm()
  }
}
