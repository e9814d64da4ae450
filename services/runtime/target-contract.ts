import type { ClickHouseClient } from '@clickhouse/client';
import type { Logger } from 'pino';
import type { EventStore } from '../adapters/clickhouse/event-store.js';
import type { ReadinessCheck } from '../adapters/http/operational-server.js';
import type { EventCodec } from '../adapters/schema-registry/event-codec.js';
import type { PipelineMetrics } from '../adapters/telemetry/pipeline-metrics.js';
import type { RecordTransport } from '../adapters/transport/record-transport.js';
import type { Target, VigilConfig } from '../config/vigil-config.js';

/** What every target may use; each piece is built once, on first need. */
export interface SharedServices {
  config: VigilConfig;
  logger: Logger;
  metrics: PipelineMetrics;
  transport(): RecordTransport;
  codec(): Promise<EventCodec>;
  eventStore(): Promise<EventStore>;
  /** The migrated storage client, for targets that read what the collector stored. */
  storage(): Promise<ClickHouseClient>;
  /** This process's instance id: VIGIL_INSTANCE_ID, or a slot claimed on this host. */
  instanceId(): string;
}

/** A started target: what it adds to /readyz, a one-line status, and how to stop it. */
export interface RunningTarget {
  name: Target;
  readiness: ReadinessCheck[];
  status(): string;
  stop(): Promise<void>;
  /** Settles with the reason if the target fails for good while running (not when it is stopped). */
  failed?: Promise<Error>;
}

export type StartTarget = (shared: SharedServices) => Promise<RunningTarget>;

/**
 * How to start each target, in start order: consumers before the traffic they consume. The
 * runtime knows targets only through this table, so targets depend on the contract, never on the runtime.
 */
export type TargetTable = Readonly<Record<Target, StartTarget>>;
