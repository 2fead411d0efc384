export * from './types';
export { createHttpClient, closeHttpClient, DEFAULT_TIMEOUT_MS } from './client';
export {
  HttpError,
  type HttpErrorInit,
  isHttpError,
  describeError,
  isRetryableStatus,
  kindForStatus,
  parseErrorBody,
  type ParsedServiceError,
} from './errors';
export { describeRetry, parseRetryAfter, backoffDelay, MAX_RETRY_AFTER_MS } from './retry';
export { buildUrl, encodeMultipart } from './body';
