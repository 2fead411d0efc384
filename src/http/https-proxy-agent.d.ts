/**
 * https-proxy-agent ships ESM-only types that the project's `moduleResolution: node`
 * cannot resolve; this is the slice of its API src/http/transport.ts uses. When the
 * real types resolve, TypeScript prefers them over this fallback.
 */
declare module 'https-proxy-agent' {
  import type * as http from 'node:http';
  import type * as net from 'node:net';
  import type * as tls from 'node:tls';

  export type HttpsProxyAgentOptions = http.AgentOptions &
    tls.ConnectionOptions & { headers?: http.OutgoingHttpHeaders | (() => http.OutgoingHttpHeaders) };

  export type AgentConnectOpts = (net.TcpNetConnectOpts | tls.ConnectionOptions) & {
    secureEndpoint: boolean;
    host: string;
    port: number;
  };

  export class HttpsProxyAgent<Uri extends string = string> extends http.Agent {
    readonly proxy: URL;
    constructor(proxy: Uri | URL, opts?: HttpsProxyAgentOptions);
    connect(req: http.ClientRequest, opts: AgentConnectOpts): Promise<net.Socket>;
  }
}
