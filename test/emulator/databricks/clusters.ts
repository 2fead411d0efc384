/**
 * All-purpose clusters of an emulated workspace. State changes follow wall-clock
 * time (PENDING → RUNNING after startMs, TERMINATING → TERMINATED after
 * terminateMs) and are applied lazily whenever the cluster is read.
 */
import { ApiError, invalidParam } from './api-error';

export type ClusterState =
  'PENDING' | 'RUNNING' | 'RESTARTING' | 'RESIZING' | 'TERMINATING' | 'TERMINATED' | 'ERROR' | 'UNKNOWN';

export const CLUSTER_STATES: ClusterState[] = [
  'PENDING',
  'RUNNING',
  'RESTARTING',
  'RESIZING',
  'TERMINATING',
  'TERMINATED',
  'ERROR',
  'UNKNOWN',
];

export interface ClusterSpec {
  cluster_id: string;
  /** Initial state (default RUNNING). */
  state?: ClusterState;
  cluster_name?: string;
  spark_version?: string;
  node_type_id?: string;
  num_workers?: number;
  /** Time from start (PENDING/RESTARTING/RESIZING) to RUNNING; default from the workspace. */
  startMs?: number;
  /** Time from TERMINATING to TERMINATED; default from the workspace. */
  terminateMs?: number;
  /** Any other ClusterDetails fields to report as given. */
  [field: string]: unknown;
}

interface Transition {
  to: ClusterState;
  at: number;
}

export interface ClusterStart {
  at: number;
  /** 'api' for clusters/start, 'run' when a submitted run started it. */
  cause: 'api' | 'run';
}

const STATE_MESSAGES: Partial<Record<ClusterState, string>> = {
  PENDING: 'Finding instances for new nodes, acquiring more instances if necessary',
  RESTARTING: 'Restarting Spark',
  RESIZING: 'Resizing cluster',
  TERMINATING: 'Terminating cluster',
  TERMINATED: 'Inactive cluster terminated (inactive for 120 minutes).',
  ERROR: 'Cluster is in an error state.',
};

function pretty(state: ClusterState): string {
  return state.charAt(0) + state.slice(1).toLowerCase();
}

export class Cluster {
  state: ClusterState;
  stateSince: number;
  readonly starts: ClusterStart[] = [];
  private queue: Transition[] = [];
  private startTime: number;
  private terminatedTime = 0;
  readonly startMs: number;
  readonly terminateMs: number;

  constructor(
    readonly spec: ClusterSpec,
    defaults: { startMs: number; terminateMs: number },
    readonly creator: string,
    now = Date.now(),
  ) {
    this.startMs = spec.startMs ?? defaults.startMs;
    this.terminateMs = spec.terminateMs ?? defaults.terminateMs;
    this.state = spec.state ?? 'RUNNING';
    this.stateSince = now;
    this.startTime = now;
    if (this.state === 'TERMINATED') this.terminatedTime = now;
    if (['PENDING', 'RESTARTING', 'RESIZING'].includes(this.state))
      this.queue.push({ to: 'RUNNING', at: now + this.startMs });
    if (this.state === 'TERMINATING') this.queue.push({ to: 'TERMINATED', at: now + this.terminateMs });
  }

  get id(): string {
    return this.spec.cluster_id;
  }

  /** Applies every transition that is due. */
  advance(now = Date.now()): void {
    while (this.queue.length > 0 && this.queue[0].at <= now) {
      const t = this.queue.shift() as Transition;
      this.enter(t.to, t.at);
    }
  }

  /** clusters/start: only valid from TERMINATED. */
  start(cause: 'api' | 'run', now = Date.now()): void {
    this.advance(now);
    if (this.state !== 'TERMINATED') {
      throw new ApiError(
        400,
        'INVALID_STATE',
        `Cluster ${this.id} is in unexpected state ${pretty(this.state)}.`,
      );
    }
    this.starts.push({ at: now, cause });
    this.startTime = now;
    this.enter('PENDING', now);
    this.queue = [{ to: 'RUNNING', at: now + this.startMs }];
  }

  /** A run needs the cluster: start it if terminated, or once it has finished terminating. */
  ensureStarting(now = Date.now()): void {
    this.advance(now);
    if (this.state === 'TERMINATED') {
      this.start('run', now);
    } else if (this.state === 'TERMINATING' && !this.queue.some((t) => t.to === 'RUNNING')) {
      const done = this.queue.find((t) => t.to === 'TERMINATED')?.at ?? now;
      this.starts.push({ at: done, cause: 'run' });
      this.queue.push({ to: 'PENDING', at: done }, { to: 'RUNNING', at: done + this.startMs });
    }
  }

  /** When the cluster is (or will be) RUNNING; undefined if it will not get there by itself. */
  runningAt(now = Date.now()): number | undefined {
    this.advance(now);
    if (this.state === 'RUNNING') return this.stateSince;
    return this.queue.find((t) => t.to === 'RUNNING')?.at;
  }

  /** Forces a state now (control API); PENDING-like states still reach RUNNING after startMs. */
  setState(state: ClusterState, now = Date.now()): void {
    this.queue = [];
    this.enter(state, now);
    if (['PENDING', 'RESTARTING', 'RESIZING'].includes(state))
      this.queue.push({ to: 'RUNNING', at: now + this.startMs });
    if (state === 'TERMINATING') this.queue.push({ to: 'TERMINATED', at: now + this.terminateMs });
  }

  details(now = Date.now()): Record<string, unknown> {
    this.advance(now);
    const { startMs: _s, terminateMs: _t, state: _st, cluster_id: _id, ...rest } = this.spec;
    const out: Record<string, unknown> = {
      cluster_id: this.id,
      creator_user_name: this.creator,
      cluster_name: this.spec.cluster_name ?? this.id,
      spark_version: this.spec.spark_version ?? '15.4.x-scala2.12',
      node_type_id: this.spec.node_type_id ?? 'Standard_DS3_v2',
      driver_node_type_id: this.spec.node_type_id ?? 'Standard_DS3_v2',
      num_workers: this.spec.num_workers ?? 1,
      autotermination_minutes: 120,
      enable_elastic_disk: true,
      cluster_source: 'UI',
      data_security_mode: 'SINGLE_USER',
      azure_attributes: { first_on_demand: 1, availability: 'ON_DEMAND_AZURE', spot_bid_max_price: -1 },
      default_tags: {
        Vendor: 'Databricks',
        Creator: this.creator,
        ClusterName: this.spec.cluster_name ?? this.id,
        ClusterId: this.id,
      },
      ...rest,
      state: this.state,
      state_message: STATE_MESSAGES[this.state] ?? '',
      start_time: this.startTime,
      last_state_loss_time: 0,
    };
    if (this.state === 'RUNNING') out.spark_context_id = sparkContextId(this.id, this.stateSince);
    if (this.state === 'TERMINATED') {
      out.terminated_time = this.terminatedTime;
      out.termination_reason = {
        code: 'INACTIVITY',
        type: 'SUCCESS',
        parameters: { inactivity_duration_min: '120' },
      };
    }
    return out;
  }

  private enter(state: ClusterState, at: number): void {
    this.state = state;
    this.stateSince = at;
    if (state === 'TERMINATED') this.terminatedTime = at;
  }
}

export function sparkContextId(clusterId: string, since: number): string {
  let h = 7;
  for (const ch of `${clusterId}:${since}`) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return `${h}${since % 100000}`;
}

export function validateClusterSpec(spec: ClusterSpec): void {
  if (!spec || typeof spec.cluster_id !== 'string' || !spec.cluster_id)
    throw invalidParam('Missing required field: cluster_id');
  if (spec.state !== undefined && !CLUSTER_STATES.includes(spec.state)) {
    throw invalidParam(`Invalid cluster state ${String(spec.state)}.`);
  }
}

export function clusterMissing(id: string): ApiError {
  return invalidParam(`Cluster ${id} does not exist`);
}
