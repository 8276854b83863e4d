/**
 * The memory network's event loop: the queue its deferred work runs from,
 * one task per turn (of the host's loop on real timers; of Effect's
 * scheduler, which `TestClock` watches, on an Effect clock), real timers,
 * and the seeded random source.
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
  readonly queueMicrotask?: ((f: () => void) => void) | undefined
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
  /** Tasks posted and not run yet. */
  readonly size: number
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

  /** Tasks posted and not run yet. */
  get size(): number {
    return this.tasks.length - this.head
  }

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

/** Queues a microtask (`queueMicrotask` where the host has it). */
const microtask = (f: () => void): void => {
  const queue = g.queueMicrotask
  if (typeof queue === "function") queue.call(globalThis, f)
  else void Promise.resolve().then(f)
}

/**
 * Deferred work for a network on an Effect clock: each task in its own turn,
 * as on real sockets (the microtasks and `nextTick`s a task queues run before
 * the next one: what `@sluice/compat`'s streams rely on), each turn a task of
 * Effect's scheduler (`schedule`). The scheduler of a context with
 * `TestClock` counts the tasks a clock wake schedules, and the tasks those
 * schedule, and the clock waits until they have run before it wakes the next
 * sleep: so what a step of the clock sets off is done before the next step,
 * and one `TestClock.adjust` delivers what is due in order, as steps of any
 * size would.
 *
 * Each posted task schedules one step of its own, in the context it was
 * posted from (that is how the clock counts it); a step runs the task at the
 * head of the queue, one per turn: a step that finds a task already ran in
 * its turn (several steps scheduled in one turn share it) waits for the next.
 */
export class TurnQueue implements TaskQueue {
  private tasks: Array<Task | undefined> = []
  private head = 0
  ran = 0
  /** A task ran in the current turn of the host's loop (reset by a microtask after it). */
  private ranThisTurn = false
  private readonly schedule: (step: () => void) => void

  constructor(schedule: (step: () => void) => void) {
    this.schedule = schedule
  }

  /** Tasks posted and not run yet. */
  get size(): number {
    return this.tasks.length - this.head
  }

  post(task: Task): void {
    this.tasks.push(task)
    this.schedule(this.step)
  }

  private readonly endOfTurn = (): void => {
    this.ranThisTurn = false
  }

  private readonly step = (): void => {
    if (this.ranThisTurn) {
      // another step ran a task in this turn: this one runs in the next
      this.schedule(this.step)
      return
    }
    const task = this.tasks[this.head]
    if (task === undefined) return
    this.tasks[this.head++] = undefined
    if (this.head === this.tasks.length) {
      this.tasks = []
      this.head = 0
    }
    this.ranThisTurn = true
    microtask(this.endOfTurn)
    this.ran++
    try {
      task.run()
    } catch (error) {
      report(error)
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
