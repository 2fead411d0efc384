/** A scripted HttpClient for unit tests: records requests, answers from a handler. */
import type { HttpClient, HttpRequest, HttpResponse } from '../../../src/http/types';

export type FakeHandler = (
  req: HttpRequest,
) => { status: number; data?: unknown; headers?: Record<string, string> } | Error;

export class FakeHttp implements HttpClient {
  readonly requests: HttpRequest[] = [];
  readonly stats = { requests: 0, retries: 0 };
  constructor(private readonly handler: FakeHandler) {}

  async request<T = unknown>(req: HttpRequest): Promise<HttpResponse<T>> {
    this.requests.push(req);
    this.stats.requests++;
    const out = this.handler(req);
    if (out instanceof Error) throw out;
    const ok = (out.status >= 200 && out.status < 300) || (req.acceptStatuses ?? []).includes(out.status);
    if (!ok) throw new Error(`fake: unexpected status ${out.status} for ${req.method} ${req.url}`);
    return { status: out.status, headers: out.headers ?? {}, data: out.data as T, attempts: 1 };
  }

  withAuth(): HttpClient {
    return this;
  }
}
