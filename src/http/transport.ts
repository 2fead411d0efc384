import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as tls from 'node:tls';
import axios, { type AxiosInstance } from 'axios';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { registerSecret } from '../common/secrets';
import type { ProxySettings } from './types';

/** The shared network layer: one axios instance and keep-alive agents (direct and through the proxy). */
export interface Transport {
  readonly axios: AxiosInstance;
  /** Agents to use for `url`, honouring the proxy bypass list. */
  agentsFor(url: URL): { httpAgent: http.Agent; httpsAgent: http.Agent; proxyHost?: string };
  /** Closes pooled sockets (tests, end of task). */
  destroy(): void;
}

export interface TransportOptions {
  proxy?: ProxySettings;
  caCertificates?: string[];
}

// Idle keep-alive sockets are dropped before typical server idle timeouts (Node: 5 s), so a
// reused socket is rarely reset under a request that cannot be retried (a POST).
const FREE_SOCKET_TIMEOUT_MS = 4_000;

export function createTransport(opts: TransportOptions = {}): Transport {
  const ca = trustedCas(opts.caCertificates);
  const agentOptions = { keepAlive: true, timeout: FREE_SOCKET_TIMEOUT_MS };
  // TLS verification stays on: `ca` only adds trust anchors, nothing here disables checks.
  const direct = {
    http: new http.Agent(agentOptions),
    https: new https.Agent({ ...agentOptions, ...(ca ? { ca } : {}) }),
  };

  let viaProxy: { agent: http.Agent; host: string; bypass: RegExp[] } | undefined;
  if (opts.proxy?.url) {
    let proxyUrl: URL;
    try {
      proxyUrl = new URL(opts.proxy.url);
    } catch {
      // Not echoed: a proxy URL can embed credentials.
      throw new TypeError(
        "The agent's proxy URL is not a valid URL (expected e.g. http://proxy.contoso.com:8080).",
      );
    }
    if (opts.proxy.username) proxyUrl.username = encodeURIComponent(opts.proxy.username);
    if (opts.proxy.password) {
      registerSecret(opts.proxy.password);
      proxyUrl.password = encodeURIComponent(opts.proxy.password);
    }
    viaProxy = {
      // One CONNECT-tunnelling agent serves http and https targets alike.
      agent: new TrustingProxyAgent(proxyUrl, ca, agentOptions),
      host: proxyUrl.host,
      bypass: compileBypass(opts.proxy.bypass ?? []),
    };
  }

  const instance = axios.create({
    adapter: 'http',
    // The proxy is handled by our agents; `false` also stops axios reading HTTP(S)_PROXY itself.
    proxy: false,
    maxRedirects: 0,
    validateStatus: () => true,
    responseType: 'arraybuffer',
    transformRequest: [(d: unknown) => d],
    transformResponse: [(d: unknown) => d],
    maxBodyLength: Infinity,
    maxContentLength: Infinity,
    decompress: true,
  });

  return {
    axios: instance,
    agentsFor(url: URL) {
      if (viaProxy && !bypassesProxy(url, viaProxy.bypass)) {
        return { httpAgent: viaProxy.agent, httpsAgent: viaProxy.agent, proxyHost: viaProxy.host };
      }
      return { httpAgent: direct.http, httpsAgent: direct.https };
    },
    destroy() {
      direct.http.destroy();
      direct.https.destroy();
      viaProxy?.agent.destroy();
    },
  };
}

/**
 * Trust anchors when extra CAs are given: Node's bundled roots plus
 * NODE_EXTRA_CA_CERTS plus the extras. Setting `ca` replaces Node's default
 * store (which is where NODE_EXTRA_CA_CERTS lives), so all three are listed.
 * Undefined means "use Node's default store unchanged".
 */
export function trustedCas(extra: string[] | undefined): string[] | undefined {
  const given = (extra ?? []).map((c) => c.trim()).filter((c) => c.length > 0);
  if (given.length === 0) return undefined;
  const list = [...tls.rootCertificates];
  const envFile = process.env.NODE_EXTRA_CA_CERTS;
  if (envFile) {
    try {
      list.push(readFileSync(envFile, 'utf8'));
    } catch {
      // Node itself only warns when this file is unreadable; do the same (say nothing).
    }
  }
  list.push(...given);
  return list;
}

/**
 * The agent's bypass list holds regular expressions matched (case-insensitively)
 * against the request URL, as azure-pipelines-task-lib does. We match against
 * the URL without its query string.
 */
export function compileBypass(patterns: string[]): RegExp[] {
  const out: RegExp[] = [];
  for (const p of patterns) {
    const trimmed = p.trim();
    if (!trimmed) continue;
    try {
      out.push(new RegExp(trimmed, 'i'));
    } catch {
      // Not a valid regex (e.g. "*.contoso.com"): treat it as a host wildcard.
      const escaped = trimmed.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
      out.push(new RegExp(`^${escaped}$`, 'i'));
    }
  }
  return out;
}

export function bypassesProxy(url: URL, bypass: RegExp[]): boolean {
  const target = `${url.protocol}//${url.host}${url.pathname}`;
  return bypass.some((re) => re.test(target) || re.test(url.hostname));
}

type ConnectOpts = Parameters<HttpsProxyAgent<string>['connect']>[1];

/**
 * HttpsProxyAgent upgrades the tunnel to TLS with the request's options, which
 * axios does not fill with our CA list; add it so custom trust works through a proxy too.
 */
class TrustingProxyAgent extends HttpsProxyAgent<string> {
  constructor(
    proxy: URL,
    private readonly targetCa: string[] | undefined,
    agentOptions: http.AgentOptions,
  ) {
    super(proxy, { ...agentOptions, ...(targetCa ? { ca: targetCa } : {}) });
  }

  override connect(
    req: http.ClientRequest,
    opts: ConnectOpts,
  ): ReturnType<HttpsProxyAgent<string>['connect']> {
    return super.connect(req, this.targetCa ? ({ ...opts, ca: this.targetCa } as ConnectOpts) : opts);
  }
}
