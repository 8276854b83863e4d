/**
 * The memory network's event loop: a run queue whose tasks run one per turn
 * of the host's loop, real timers, and the seeded random source.
 *
 * @internal
 */
import type { Timers } from "../../Driver.ts"

// ---------------------------------------------------------------------------
// globals without Node types
// ---------------------------------------------------------------------------

interface Globals {
  readonly setTimeout: (f: () => void, ms: number) => unknown
  readonly clearTimeout: (t: unknown) => void
  readonly setImmediate?: ((f: () => void) => unknown) | undefined
}

const g = globalThis as unknown as Globals

const macrotask = (f: () => void): void => {
  if (typeof g.setImmediate === "function") g.setImmediate(f)
  else g.setTimeout(f, 0)
}

/** Real timers (`setTimeout`), not keeping a Node process alive where `unref` exists. */
export const realTimers: Timers = {
  now: () => Date.now(),
  schedule: (ms, f) => {
    const t = g.setTimeout(f, Math.max(0, ms)) as { unref?: () => void }
    if (typeof t === "object" && t !== null && typeof t.unref === "function") t.unref()
    return () => g.clearTimeout(t)
  }
}

// ---------------------------------------------------------------------------
// run queue and random source
// ---------------------------------------------------------------------------

/** A unit of deferred work. */
export interface Task {
  run(): void
}

/**
 * Deferred work, run in order, each task in its own turn of the host's event
 * loop (`setImmediate` where it exists): as with real sockets, every I/O event
 * is a separate callback, and the microtasks and `nextTick`s one of them
 * queues run before the next event is delivered.
 */
export class RunQueue {
  private tasks: Array<Task | undefined> = []
  private head = 0

  post(task: Task): void {
    this.tasks.push(task)
    macrotask(this.runOne)
  }

  private readonly runOne = (): void => {
    const task = this.tasks[this.head]
    if (task === undefined) return
    this.tasks[this.head++] = undefined
    if (this.head === this.tasks.length) {
      this.tasks = []
      this.head = 0
    }
    try {
      task.run()
    } catch (error) {
      // a face's callback threw: report it like an uncaught exception, keep the network running
      g.setTimeout(() => {
        throw error
      }, 0)
    }
  }
}

/** A seeded random source (mulberry32): the same seed gives the same sequence. */
export class Random {
  private state: number
  constructor(seed: number) {
    this.state = seed >>> 0
  }
  /** A float in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0)
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1))
  }
}
