/**
 * The contract of the one HTTP client all core code uses (implementation in
 * src/http/client.ts). Kept in its own file so callers can be written against it.
 */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD';

export interface MultipartFile {
  name: string;
  filename: string;
  content: Buffer;
  contentType?: string;
}

export interface HttpRequest {
  method: HttpMethod;
  /** Absolute URL. */
  url: string;
  query?: Record<string, string | number | boolean | undefined>;
  headers?: Record<string, string>;
  /** JSON body. */
  json?: unknown;
  /** application/x-www-form-urlencoded body. */
  form?: Record<string, string>;
  /** multipart/form-data body. */
  multipart?: { fields: Record<string, string>; files: MultipartFile[] };
  /** Raw body; set content-type in headers. */
  body?: Buffer | string;
  /**
   * Whether the call may be retried. Default: true for GET, HEAD, PUT, DELETE;
   * false for POST/PATCH. Set true for a POST that carries an idempotency key or
   * is naturally idempotent (mkdirs, import with overwrite, token requests).
   */
  idempotent?: boolean;
  timeoutMs?: number;
  signal?: AbortSignal;
  responseType?: 'json' | 'text' | 'buffer';
  /** Statuses (besides 2xx) returned as responses instead of thrown, e.g. [404]. */
  acceptStatuses?: number[];
  /** Skip the client's authorize hook (token endpoints authenticate themselves). */
  skipAuth?: boolean;
  /** Human name of the operation for errors and logs, e.g. "import notebook". */
  operation?: string;
}

export interface HttpResponse<T = unknown> {
  status: number;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  data: T;
  requestId?: string;
  /** 1 when the first attempt succeeded. */
  attempts: number;
}

export interface RetryInfo {
  attempt: number;
  delayMs: number;
  reason: string;
  method: HttpMethod;
  path: string;
}

export interface ProxySettings {
  url: string;
  username?: string;
  password?: string;
  /** Host patterns that bypass the proxy (agent's proxy bypass list, regexes). */
  bypass?: string[];
}

export interface HttpClientOptions {
  /** Per-attempt timeout. Default 60 s. */
  timeoutMs?: number;
  /** Retries after the first attempt. Default 6. */
  maxRetries?: number;
  retryBaseDelayMs?: number;
  retryMaxDelayMs?: number;
  proxy?: ProxySettings;
  /** Extra trusted CA certificates (PEM), e.g. the agent's Agent.CAInfo. */
  caCertificates?: string[];
  userAgent?: string;
  /** Adds auth headers; called on every attempt so refreshed tokens are used. */
  authorize?: (req: HttpRequest) => Promise<Record<string, string>>;
  /**
   * Called when a request carrying `authorize` headers is rejected as unauthorized
   * (401, or 403 for an invalid or expired token). Returning true means the
   * credentials were refreshed: the request is sent once more with fresh headers.
   */
  onUnauthorized?: UnauthorizedHandler;
  onRetry?: (info: RetryInfo) => void;
  /** Injected for deterministic tests. */
  random?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** What the unauthorized hook learns about a rejected request. */
export interface UnauthorizedInfo {
  request: HttpRequest;
  /**
   * The headers the authorize hook added to the rejected attempt (lower-cased names), so
   * a shared token cache can tell a stale token from one another request already replaced.
   */
  sentAuthHeaders: Record<string, string>;
  status: number;
  code?: string;
}

/** Returns true when fresh credentials are available and one more attempt may succeed. */
export type UnauthorizedHandler = (info: UnauthorizedInfo) => boolean | Promise<boolean>;

export interface HttpClient {
  request<T = unknown>(req: HttpRequest): Promise<HttpResponse<T>>;
  /**
   * A client sharing transport, rate-limit state and retry policy, with another authorize
   * hook and (optionally) the hook that refreshes credentials after a 401.
   */
  withAuth(
    authorize: ((req: HttpRequest) => Promise<Record<string, string>>) | undefined,
    onUnauthorized?: UnauthorizedHandler,
  ): HttpClient;
  /** Counters for summaries and benchmarks. */
  readonly stats: { requests: number; retries: number };
}

/** Classification of a failure, so callers and messages can say what to check. */
export type HttpErrorKind =
  | 'unauthorized' // 401, or 403 "Invalid access token"
  | 'forbidden' // 403: identity lacks access (e.g. SP not a workspace member)
  | 'notFound' // 404 / RESOURCE_DOES_NOT_EXIST
  | 'conflict' // 409 / RESOURCE_ALREADY_EXISTS
  | 'badRequest' // other 4xx
  | 'rateLimited' // 429 after retries
  | 'server' // 5xx after retries
  | 'network' // DNS, refused, reset, TLS
  | 'timeout'
  | 'aborted';
