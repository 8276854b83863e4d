/**
 * Linux TCP on loopback, as the memory network models it: segment sizes,
 * ACK timing, receive-window growth (measured on Linux 6.18), SYN retries.
 *
 * @internal
 */

/** Linux loopback MSS (MTU 65536 less IP and TCP headers and the timestamp option). */
export const LOOPBACK_MSS = { IPv4: 65483, IPv6: 65464 } as const
/** Linux's minimum receive MSS estimate (TCP_MSS_DEFAULT). */
export const INITIAL_RCV_MSS = 536
/** Linux TCP_MAX_QUICKACKS: segments acknowledged at once at the start of a connection. */
export const QUICK_ACKS = 16
/** Linux TCP_DELACK_MIN / TCP_ATO_MIN (ms): the delayed ACK timeout, and the pingpong window. */
export const DELAYED_ACK = 40
/** Linux TCP_RTO_MIN (ms): a receive after a longer silence refills the quick ACKs. */
export const RTO_MIN = 200

/**
 * How many unacknowledged bytes a read must free for the receiver to
 * announce the larger window at once (Linux tcp_cleanup_rbuf), by how many
 * bytes the connection had received before: the window starts small and grows
 * with the first kilobytes. Measured on Linux 6.18 loopback with the default
 * `tcp_rmem` (the same for either end); linear in between.
 */
const WINDOW_UPDATE: ReadonlyArray<readonly [received: number, bytes: number]> = [
  [850, 9_840],
  [1_000, 16_440],
  [1_200, 26_090],
  [1_400, 33_830],
  [1_500, 37_390],
  [1_800, 43_990],
  [2_000, 45_500],
  [3_000, 50_200],
  [5_000, 53_760],
  [10_000, 55_800],
  [20_000, 53_250],
  [65_000, 47_670]
]

export const windowUpdateAfter = (received: number): number => interpolate(WINDOW_UPDATE, received)

/**
 * The largest window a receiver announces after a data segment of a given
 * size has arrived (Linux tcp_grow_window: its receive-buffer estimate grows by
 * the segment's share of the memory it took, so mid-sized segments grow it
 * most). Measured on Linux 6.18 loopback with the default `tcp_rmem`, one
 * segment on a fresh connection; linear in between, in steps of 1 KiB. Only
 * the largest ever announced matters here: Linux bounds a sender's segment size
 * by half of it (tcp_bound_to_half_wnd), so a young connection's sender sends
 * 32 KiB segments, not 64 KiB ones.
 */
const WINDOW_AFTER_SEGMENT: ReadonlyArray<readonly [size: number, window: number]> = [
  [850, 65_536],
  [1_000, 70_656],
  [1_500, 82_944],
  [2_000, 91_136],
  [2_500, 96_256],
  [3_000, 100_352],
  [4_000, 104_448],
  [5_000, 107_520],
  [7_000, 110_592],
  [9_000, 111_616],
  [10_000, 111_616],
  [14_000, 109_568],
  [20_000, 106_496],
  [25_000, 102_400],
  [30_000, 98_304],
  [40_000, 95_232]
]

/** Linux's initial receive window on loopback with the default `tcp_rmem`, as announced scaled (and unscaled, in a SYN-ACK). */
export const INITIAL_WINDOW = { scaled: 65_536, synAck: 65_483 } as const

const interpolate = (table: ReadonlyArray<readonly [number, number]>, x: number): number => {
  let [x0, y0] = table[0]!
  if (x <= x0) return y0
  for (const [x1, y1] of table) {
    if (x <= x1) return y0 + ((y1 - y0) * (x - x0)) / (x1 - x0)
    x0 = x1
    y0 = y1
  }
  return y0
}

export const windowAfterSegment = (size: number): number =>
  Math.floor(interpolate(WINDOW_AFTER_SEGMENT, size) / 1024) * 1024

export const EPSILON = 1e-6
export const SYN_RETRIES = [1000, 2000, 4000, 8000, 16000, 32000, 64000]
