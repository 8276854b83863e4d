/**
 * `effect/cluster` runners on simulated hosts: each runner serves the runner
 * protocol with effect's `SocketRunner` over a Sluice server on its host,
 * dials the other runners over its host's `Network`
 * (`Runners.RpcClientProtocol` with effect/rpc's socket protocol), checks
 * their health by pinging them (`RunnerHealth.layerPing`), and shares the
 * cluster's storage.
 *
 * **Storage**
 *
 * {@link makeStorage} builds the cluster's shared storage in memory, as a
 * database every runner reaches (it is not on the simulated network:
 * partitions cut runner-to-runner links only):
 *
 * - `RunnerStorage` with the rules of effect's SQL runner storage: a runner
 *   is listed while its heartbeat (each lock refresh) is younger than
 *   `shardLockExpiration`, a shard lock is held until it is released or
 *   expires, and a lock held by another live runner is not acquired (effect's
 *   own `RunnerStorage.layerMemory` is for one runner: it grants every
 *   shard to whoever asks last);
 * - effect's in-memory `MessageStorage` (`MessageStorage.layerMemory`), one
 *   for the cluster.
 *
 * A killed runner's process can no longer reach the storage: its calls fail
 * with `PersistenceError`, so its finalizers neither unregister it nor
 * release its locks, as after a crash. Its shards move once its locks expire
 * and the others see it gone or unhealthy.
 *
 * @since 0.1.0
 */
import { Interop, Network } from "@sluice/core"
import type { NonEmptyArray } from "effect/Array"
import * as Clock from "effect/Clock"
import { PersistenceError } from "effect/cluster/ClusterError"
import * as MessageStorage from "effect/cluster/MessageStorage"
import * as RunnerAddress from "effect/cluster/RunnerAddress"
import * as RunnerHealth from "effect/cluster/RunnerHealth"
import * as Runners from "effect/cluster/Runners"
import * as RunnerStorage from "effect/cluster/RunnerStorage"
import type * as Sharding from "effect/cluster/Sharding"
import * as ShardingConfig from "effect/cluster/ShardingConfig"
import * as SocketRunner from "effect/cluster/SocketRunner"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as RpcClient from "effect/rpc/RpcClient"
import * as RpcSerialization from "effect/rpc/RpcSerialization"
import type * as Scope from "effect/Scope"
import * as EffectSocket from "effect/socket/Socket"
import type * as SocketServer from "effect/socket/SocketServer"
import { perConnectionRequestIds } from "./internal/requestIds.ts"
import { CurrentHost } from "./Simulation.ts"

/**
 * A runner as the shared storage records it.
 *
 * @category models
 * @since 0.1.0
 */
export interface RunnerRecord {
  /** `host:port`. */
  readonly address: string
  readonly healthy: boolean
  /** Virtual time of its last heartbeat. */
  readonly heartbeat: number
}

/**
 * The cluster's shared storage.
 *
 * @category models
 * @since 0.1.0
 */
export interface Storage {
  /** `RunnerStorage` for a process on a simulated host (its calls fail once that process is dead). */
  readonly runnerStorage: Layer.Layer<RunnerStorage.RunnerStorage, never, CurrentHost>
  /** The cluster's `MessageStorage`. */
  readonly messageStorage: Layer.Layer<MessageStorage.MessageStorage>
  /** The registered runners (listed or expired). */
  readonly runners: () => ReadonlyArray<RunnerRecord>
  /** Which runner (`host:port`) holds each locked shard (`group:id`), expired locks left out. */
  readonly owners: () => ReadonlyMap<string, string>
  /** The configuration the storage was made for (`shardLockExpiration`, `shardsPerGroup`, ...). */
  readonly config: ShardingConfig.ShardingConfig["Service"]
}

interface Lock {
  readonly address: string
  acquiredAt: number
}

/**
 * Builds a cluster's shared storage for runners configured with `config`
 * (merged over effect's `ShardingConfig.defaults`; every runner of the cluster
 * should use the same).
 *
 * @category constructors
 * @since 0.1.0
 */
export const makeStorage = (
  config?: Partial<ShardingConfig.ShardingConfig["Service"]>
): Effect.Effect<Storage, never, Scope.Scope> =>
  Effect.gen(function*() {
    const full: ShardingConfig.ShardingConfig["Service"] = { ...ShardingConfig.defaults, ...config }
    const expiration = Duration.toMillis(Duration.fromInputUnsafe(full.shardLockExpiration))
    const clock = yield* Clock.Clock
    const now = () => clock.currentTimeMillisUnsafe()
    const runners = new Map<string, { runner: string; healthy: boolean; heartbeat: number }>()
    const locks = new Map<string, Lock>()
    let nextMachineId = 0
    const held = (lock: Lock | undefined, t: number) => lock !== undefined && t - lock.acquiredAt <= expiration
    const heldBy = (address: string, shardIds: ReadonlyArray<string>) =>
      shardIds.filter((id) => locks.get(id)?.address === address)

    const encoded: RunnerStorage.Encoded = {
      getRunners: Effect.sync(() => {
        const t = now()
        return [...runners.values()].filter((r) => t - r.heartbeat < expiration).map((r) =>
          [r.runner, r.healthy] as const
        )
      }),
      register: (address, runner, healthy) =>
        Effect.sync(() => {
          runners.set(address, { runner, healthy, heartbeat: now() })
          return nextMachineId++
        }),
      unregister: (address) =>
        Effect.sync(() => {
          const t = now()
          for (const [key, r] of runners) if (key === address || t - r.heartbeat >= expiration) runners.delete(key)
        }),
      setRunnerHealth: (address, healthy) =>
        Effect.sync(() => {
          const r = runners.get(address)
          if (r !== undefined) r.healthy = healthy
        }),
      acquire: (address, shardIds: NonEmptyArray<string>) =>
        Effect.sync(() => {
          const t = now()
          for (const id of shardIds) {
            const lock = locks.get(id)
            if (lock === undefined || lock.address === address || !held(lock, t)) {
              locks.set(id, { address, acquiredAt: t })
            }
          }
          return heldBy(address, shardIds)
        }),
      refresh: (address, shardIds) =>
        Effect.sync(() => {
          const t = now()
          const r = runners.get(address)
          if (r !== undefined) r.heartbeat = t
          const mine = heldBy(address, shardIds)
          for (const id of mine) locks.get(id)!.acquiredAt = t
          return mine
        }),
      release: (address, shardId) =>
        Effect.sync(() => {
          if (locks.get(shardId)?.address === address) locks.delete(shardId)
        }),
      releaseAll: (address) =>
        Effect.sync(() => {
          for (const [id, lock] of locks) if (lock.address === address) locks.delete(id)
        })
    }
    const shared = RunnerStorage.makeEncoded(encoded)

    const messageStorage = yield* Layer.build(
      MessageStorage.layerMemory.pipe(Layer.provide(Layer.succeed(ShardingConfig.ShardingConfig, full)))
    )

    const runnerStorage = Layer.effect(RunnerStorage.RunnerStorage)(Effect.gen(function*() {
      const host = yield* CurrentHost
      const guard = <A>(effect: Effect.Effect<A, PersistenceError>): Effect.Effect<A, PersistenceError> =>
        Effect.suspend(() =>
          host.live() ? effect : Effect.fail(new PersistenceError({ cause: `host ${host.name} is down` }))
        )
      return RunnerStorage.RunnerStorage.of({
        getRunners: guard(shared.getRunners),
        register: (runner, healthy) => guard(shared.register(runner, healthy)),
        unregister: (address) => guard(shared.unregister(address)),
        setRunnerHealth: (address, healthy) => guard(shared.setRunnerHealth(address, healthy)),
        acquire: (address, shardIds) => guard(shared.acquire(address, shardIds)),
        refresh: (address, shardIds) => guard(shared.refresh(address, shardIds)),
        release: (address, shardId) => guard(shared.release(address, shardId)),
        releaseAll: (address) => guard(shared.releaseAll(address))
      })
    }))

    return {
      runnerStorage,
      messageStorage: Layer.succeed(
        MessageStorage.MessageStorage,
        Context.get(messageStorage, MessageStorage.MessageStorage)
      ),
      runners: () =>
        [...runners.entries()].map(([address, r]) => ({ address, healthy: r.healthy, heartbeat: r.heartbeat })),
      owners: () => {
        const t = now()
        const out = new Map<string, string>()
        for (const [id, lock] of locks) if (held(lock, t)) out.set(id, lock.address)
        return out
      },
      config: full
    }
  })

/**
 * Options of {@link layerRunner}.
 *
 * @category models
 * @since 0.1.0
 */
export interface RunnerOptions {
  /** The cluster's storage ({@link makeStorage}); its `config` is the runner's `ShardingConfig`. */
  readonly storage: Storage
  /** The port the runner serves the runner protocol on. Default 34431 (effect's). */
  readonly port?: number | undefined
  /**
   * How long a dial to another runner may take. Default 1 second (as
   * effect's Node socket runner).
   */
  readonly connectTimeout?: Duration.Input | undefined
}

/**
 * effect/cluster's `Runners.RpcClientProtocol` over the `Network` in
 * context: each runner address is dialed with `Interop.makeEffectSocket`
 * and spoken to with effect/rpc's socket protocol. Request ids go on the wire
 * numbered from 0 per connection (effect's client numbers them per process),
 * so equal runs of a simulation send equal bytes.
 *
 * @category layers
 * @since 0.1.0
 */
export const layerClientProtocol = (
  options?: { readonly connectTimeout?: Duration.Input | undefined }
): Layer.Layer<Runners.RpcClientProtocol, never, RpcSerialization.RpcSerialization | Network.Network> =>
  Layer.effect(Runners.RpcClientProtocol)(Effect.gen(function*() {
    const serialization = yield* RpcSerialization.RpcSerialization
    const network = yield* Network.Network
    return {
      codecFor: serialization.codecFor,
      make: (address) =>
        Effect.gen(function*() {
          const socket = yield* Interop.makeEffectSocket({
            host: address.host,
            port: address.port,
            timeout: options?.connectTimeout ?? Duration.seconds(1)
          })
          return yield* RpcClient.makeProtocolSocket().pipe(Effect.provideService(EffectSocket.Socket, socket))
        }).pipe(
          Effect.provideService(Network.Network, network),
          Effect.provideService(RpcSerialization.RpcSerialization, perConnectionRequestIds(serialization))
        )
    }
  }))

/**
 * A cluster runner on the simulated host it is started on (with
 * `Simulation.start`): its runner address is the host's name and `port`,
 * its server a Sluice server on the host, its clients and health checks dial
 * over the host's network, its storage the cluster's. Provides `Sharding`
 * and `Runners`; add entity layers on top.
 *
 * @category layers
 * @since 0.1.0
 */
export const layerRunner = (
  options: RunnerOptions
): Layer.Layer<
  Sharding.Sharding | Runners.Runners,
  SocketServer.SocketServerError,
  Network.Network | CurrentHost
> =>
  Layer.unwrap(Effect.gen(function*() {
    const host = yield* CurrentHost
    const port = options.port ?? 34431
    const config = Layer.succeed(ShardingConfig.ShardingConfig, {
      ...options.storage.config,
      runnerAddress: Option.some(RunnerAddress.make(host.name, port)),
      runnerListenAddress: Option.none()
    })
    const clientProtocol = layerClientProtocol({ connectTimeout: options.connectTimeout })
    const health = RunnerHealth.layerPing.pipe(Layer.provide(Runners.layerRpc), Layer.provide(clientProtocol))
    return SocketRunner.layer.pipe(
      Layer.provide(Interop.layerSocketServer({ port })),
      Layer.provide(clientProtocol),
      Layer.provide(health),
      Layer.provide(options.storage.messageStorage),
      Layer.provide(options.storage.runnerStorage),
      Layer.provide(config),
      Layer.provide(RpcSerialization.layerNdjson)
    )
  }))
