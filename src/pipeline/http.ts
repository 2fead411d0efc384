/**
 * The HTTP client for a task, configured from the agent: its proxy
 * (Agent.ProxyUrl, credentials, bypass list) and its extra trusted CA
 * (Agent.CAInfo), with a user agent naming the extension and task.
 */
import * as fs from 'node:fs';
import type { Logger } from '../common/logger';
import { registerSecret } from '../common/secrets';
import { createHttpClient } from '../http/client';
import { describeRetry } from '../http/retry';
import type { HttpClient, HttpClientOptions } from '../http/types';
import { taskLib, withoutDebugEcho } from './tl';

export const EXTENSION_PRODUCT = 'databricks-adf-devops-tasks';

export interface AgentProxyConfig {
  proxyUrl: string;
  proxyUsername?: string;
  proxyPassword?: string;
  proxyBypassHosts?: string[];
}

export interface AgentCertConfig {
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  certArchiveFile?: string;
  passphrase?: string;
}

export interface PipelineHttpOptions {
  taskName?: string;
  taskVersion?: string;
  /** Overrides for tests and benchmarks (timeouts, retries). */
  overrides?: Partial<HttpClientOptions>;
}

export function userAgent(taskName?: string, taskVersion?: string): string {
  const task = taskName ? `${taskName}${taskVersion ? `/${taskVersion}` : ''}; ` : '';
  return `${EXTENSION_PRODUCT} (${task}node ${process.versions.node}; ${process.platform})`;
}

/** Turns the agent's proxy and certificate settings into client options. Pure apart from reading caFile. */
export function httpOptionsFromAgent(
  proxy: AgentProxyConfig | null | undefined,
  cert: AgentCertConfig | null | undefined,
  logger?: Logger,
  readFile: (p: string) => string = (p) => fs.readFileSync(p, 'utf8'),
): Pick<HttpClientOptions, 'proxy' | 'caCertificates'> {
  const out: Pick<HttpClientOptions, 'proxy' | 'caCertificates'> = {};
  if (proxy?.proxyUrl) {
    registerSecret(proxy.proxyPassword);
    out.proxy = {
      url: proxy.proxyUrl,
      username: proxy.proxyUsername || undefined,
      password: proxy.proxyPassword || undefined,
      bypass: proxy.proxyBypassHosts?.length ? proxy.proxyBypassHosts : undefined,
    };
    logger?.debug(`Using the agent's proxy ${safeProxy(proxy.proxyUrl)}.`);
  }
  if (cert?.caFile) {
    try {
      const pem = readFile(cert.caFile);
      if (!/-----BEGIN CERTIFICATE-----/.test(pem)) throw new Error('no PEM certificate in the file');
      out.caCertificates = [pem];
      logger?.debug(`Trusting the agent's CA certificates from ${cert.caFile}.`);
    } catch (e) {
      logger?.warn(
        `Could not read the agent's CA certificate file ${cert.caFile} (Agent.CAInfo): ${e instanceof Error ? e.message : String(e)}. Continuing with the default trusted CAs.`,
      );
    }
  }
  if (cert?.certFile || cert?.certArchiveFile) {
    registerSecret(cert.passphrase);
    logger?.warn(
      'The agent is configured with a client certificate; these tasks do not send client certificates.',
    );
  }
  return out;
}

function safeProxy(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return '(unparseable proxy URL)';
  }
}

export function createPipelineHttpClient(logger: Logger, opts: PipelineHttpOptions = {}): HttpClient {
  const tl = taskLib();
  // task-lib echoes each variable it reads in a debug line, the proxy password and certificate passphrase included.
  const proxy = withoutDebugEcho(() => tl.getHttpProxyConfiguration());
  const cert = withoutDebugEcho(() => tl.getHttpCertConfiguration());
  const agent = httpOptionsFromAgent(proxy, cert, logger);
  return createHttpClient({
    ...agent,
    userAgent: userAgent(opts.taskName, opts.taskVersion),
    onRetry: (info) => logger.info(describeRetry(info)),
    ...opts.overrides,
  });
}
