/**
 * The memory network's event loop: the queue its deferred work runs from
 * (one task per turn of the host's loop on real timers; on an Effect clock,
 * all pending work in one turn of Effect's scheduler, so that `TestClock`
 * waits for it), real timers, and the seeded random source.
 *
 * @internal
 */
import { hostTimers, type Timers } from "../../Driver.ts"

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
export const realTimers: Timers = hostTimers(g)

// ---------------------------------------------------------------------------
// run queue and random source
// ---------------------------------------------------------------------------

/** A unit of deferred work. */
export interface Task {
  run(): void
}

/** Where the network's deferred work waits: tasks run in the order posted, never inside `post`. */
export interface TaskQueue {
  post(task: Task): void
  /** Tasks run so far. */
  readonly ran: number
}

/** A face's callback threw: reported like an uncaught exception; the network keeps running. */
const report = (error: unknown): void => {
  g.setTimeout(() => {
    throw error
  }, 0)
}

/**
 * Deferred work, run in order, each task in its own turn of the host's event
 * loop (`setImmediate` where it exists): as with real sockets, every I/O event
 * is a separate callback, and the microtasks and `nextTick`s one of them
 * queues run before the next event is delivered.
 */
export class RunQueue implements TaskQueue {
  private tasks: Array<Task | undefined> = []
  private head = 0
  ran = 0

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
    this.ran++
    try {
      task.run()
    } catch (error) {
      report(error)
    }
  }
}

/** Tasks run by one drain before it lets the host's loop run (and drains again on a later turn). */
const DRAIN_BUDGET = 4096

/**
 * Deferred work for a network on an Effect clock: every pending task, and
 * the tasks they post, run in order in one task of Effect's scheduler
 * (`schedule`), on a later turn. The scheduler of a context with `TestClock`
 * counts the work a clock wake starts, and the clock waits until it is done
 * before it wakes the next sleep: so one `TestClock.adjust` delivers what is
 * due in order, as steps of any size would. Effect code sees the order of
 * events it would see one per turn: a fiber a delivery resumes runs at once,
 * inside it.
 */
export class DrainQueue implements TaskQueue {
  private tasks: Array<Task | undefined> = []
  private head = 0
  ran = 0
  private scheduled = false
  private readonly schedule: (drain: () => void) => void

  constructor(schedule: (drain: () => void) => void) {
    this.schedule = schedule
  }

  post(task: Task): void {
    this.tasks.push(task)
    if (this.scheduled) return
    this.scheduled = true
    this.schedule(this.drain)
  }

  private readonly drain = (): void => {
    let budget = DRAIN_BUDGET
    while (this.head < this.tasks.length) {
      if (budget-- === 0) {
        // still scheduled: the next drain takes the rest on a later turn
        this.schedule(this.drain)
        return
      }
      const task = this.tasks[this.head]
      this.tasks[this.head++] = undefined
      if (task === undefined) continue
      this.ran++
      try {
        task.run()
      } catch (error) {
        report(error)
      }
    }
    this.tasks = []
    this.head = 0
    this.scheduled = false
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
