/** Clusters API: read a cluster, start it, and make sure it is running before a run uses it. */
import type { Logger } from '../common/logger';
import { silentLogger } from '../common/logger';
import { isHttpError } from '../http/errors';
import type { HttpClient } from '../http/types';
import { realClock, type Clock } from './run/clock';
import { formatDuration, pollDelayMs } from './run/poll-schedule';

export type ClusterState =
  | 'PENDING'
  | 'RUNNING'
  | 'RESTARTING'
  | 'RESIZING'
  | 'TERMINATING'
  | 'TERMINATED'
  | 'ERROR'
  | 'UNKNOWN'
  | (string & {});

export interface ClusterDetails {
  cluster_id: string;
  cluster_name?: string;
  state?: ClusterState;
  state_message?: string;
  spark_version?: string;
  node_type_id?: string;
  num_workers?: number;
  termination_reason?: { code?: string; type?: string; parameters?: Record<string, string> };
}

export class ClusterNotFoundError extends Error {
  constructor(
    readonly clusterId: string,
    detail?: string,
  ) {
    super(`Cluster ${clusterId} does not exist${detail ? ` (${detail})` : ''}`);
    this.name = 'ClusterNotFoundError';
  }
}

export class ClusterStateError extends Error {
  constructor(
    readonly clusterId: string,
    readonly state: string,
    message: string,
  ) {
    super(message);
    this.name = 'ClusterStateError';
  }
}

export interface EnsureRunningOptions {
  signal?: AbortSignal;
  logger?: Logger;
  /** Give up waiting after this long (default 30 minutes). */
  timeoutMs?: number;
  /** Largest wait between polls (default 15 s). */
  maxPollMs?: number;
  clock?: Clock;
}

export class ClustersClient {
  private readonly base: string;

  constructor(
    private readonly http: HttpClient,
    workspaceUrl: string,
  ) {
    this.base = `${workspaceUrl.replace(/\/+$/, '')}/api/2.1/clusters`;
  }

  async get(clusterId: string, signal?: AbortSignal): Promise<ClusterDetails> {
    try {
      const res = await this.http.request<ClusterDetails>({
        method: 'GET',
        url: `${this.base}/get`,
        query: { cluster_id: clusterId },
        signal,
        operation: 'get cluster',
      });
      return res.data;
    } catch (e) {
      // Databricks answers 400 INVALID_PARAMETER_VALUE "Cluster x does not exist" (some versions 404).
      if (
        isHttpError(e) &&
        (e.kind === 'notFound' ||
          (e.status === 400 && /does not exist|not found/i.test(e.serviceMessage ?? '')))
      ) {
        throw new ClusterNotFoundError(clusterId, e.serviceMessage);
      }
      throw e;
    }
  }

  /** Starts a terminated cluster. Returns false when it was not TERMINATED (someone else started it). */
  async start(clusterId: string, signal?: AbortSignal): Promise<boolean> {
    try {
      await this.http.request({
        method: 'POST',
        url: `${this.base}/start`,
        json: { cluster_id: clusterId },
        // A repeated start is refused with INVALID_STATE, which is handled below.
        idempotent: true,
        signal,
        operation: 'start cluster',
      });
      return true;
    } catch (e) {
      if (isHttpError(e) && e.status === 400 && e.code === 'INVALID_STATE') return false;
      throw e;
    }
  }

  /**
   * Waits until the cluster is RUNNING: TERMINATED is started; TERMINATING is
   * waited out, then started; PENDING/RESIZING/RESTARTING are waited for;
   * ERROR/UNKNOWN fail.
   */
  async ensureRunning(clusterId: string, opts: EnsureRunningOptions = {}): Promise<ClusterDetails> {
    const log = opts.logger ?? silentLogger;
    const clock = opts.clock ?? realClock;
    const timeoutMs = opts.timeoutMs ?? 30 * 60_000;
    const started = clock.now();
    let lastState: string | undefined;
    let startRequested = false;
    for (;;) {
      const c = await this.get(clusterId, opts.signal);
      const state = c.state ?? 'UNKNOWN';
      const name = c.cluster_name ? `${c.cluster_name} (${clusterId})` : clusterId;
      if (state !== lastState) {
        log.info(`Cluster ${name} is ${state}${c.state_message ? `: ${c.state_message}` : ''}`);
        lastState = state;
      }
      switch (state) {
        case 'RUNNING':
          if (clock.now() - started > 1000)
            log.info(`Cluster ${name} is running after ${formatDuration(clock.now() - started)}.`);
          return c;
        case 'TERMINATED':
          if (!startRequested) {
            log.info(`Starting cluster ${name}…`);
            await this.start(clusterId, opts.signal);
            startRequested = true;
          }
          break;
        case 'ERROR':
        case 'UNKNOWN':
          throw new ClusterStateError(
            clusterId,
            state,
            `Cluster ${name} is in state ${state}${c.state_message ? `: ${c.state_message}` : ''}; fix or restart it in the workspace, or choose another cluster.`,
          );
        default:
          // PENDING, RESIZING, RESTARTING, TERMINATING: wait.
          if (state === 'TERMINATING') startRequested = false;
          break;
      }
      const elapsed = clock.now() - started;
      if (elapsed >= timeoutMs) {
        throw new ClusterStateError(
          clusterId,
          state,
          `Cluster ${name} did not reach RUNNING within ${formatDuration(timeoutMs)} (last state ${state}).`,
        );
      }
      const delay = Math.min(pollDelayMs(elapsed, { maxMs: opts.maxPollMs ?? 15_000 }), timeoutMs - elapsed);
      await clock.sleep(delay, opts.signal);
    }
  }
}
