/**
 * The idempotency_token sent with runs/submit. Databricks returns the existing
 * run for a token it has seen, so a submission retried after a lost response (or
 * a task restarted within the same job attempt) attaches to the same run instead
 * of starting a second one.
 */
import * as crypto from 'node:crypto';

/** Pipeline variables that identify one execution of one step. */
export interface PipelineIdentity {
  collectionId?: string;
  teamProject?: string;
  buildId?: string;
  releaseId?: string;
  releaseEnvironmentId?: string;
  /** Release.AttemptNumber: a redeployment of the same release environment. */
  releaseAttempt?: string;
  stageAttempt?: string;
  jobId?: string;
  jobAttempt?: string;
  /** System.TaskInstanceId: tells apart two identical steps in one job. */
  taskInstanceId?: string;
}

export interface IdempotencyToken {
  token: string;
  /** False when no pipeline run identifies the call (a local run): the token is then unique per process. */
  stable: boolean;
}

export const MAX_TOKEN_LENGTH = 64;
const PREFIX = 'azdo-';

// One nonce per process: local runs without pipeline variables must not collide
// with an earlier local run, but a retry inside this process must still match.
const processNonce = crypto.randomUUID();

export function deriveIdempotencyToken(identity: PipelineIdentity, inputs: unknown): IdempotencyToken {
  const runKey = identity.buildId || identity.releaseId;
  const stable = Boolean(runKey && identity.jobId);
  const material = canonicalJson({
    v: 1,
    identity: Object.fromEntries(Object.entries(identity).filter(([, v]) => v !== undefined && v !== '')),
    inputs,
    nonce: stable ? undefined : processNonce,
  });
  const digest = crypto.createHash('sha256').update(material).digest('hex');
  const token = PREFIX + digest.slice(0, MAX_TOKEN_LENGTH - PREFIX.length);
  return { token, stable };
}

/** JSON with object keys sorted, so equal inputs hash equally whatever their order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const val = (v as Record<string, unknown>)[k];
      if (val !== undefined) out[k] = sortKeys(val);
    }
    return out;
  }
  return v;
}
