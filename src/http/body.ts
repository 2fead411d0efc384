import { randomBytes } from 'node:crypto';
import type { HttpRequest, MultipartFile } from './types';

/** A request body ready to send (and to resend on retry). */
export interface EncodedBody {
  data?: Buffer;
  contentType?: string;
}

/** Appends `query` to `url`, percent-encoding keys and values (spaces as %20) and skipping undefined. */
export function buildUrl(url: string, query?: HttpRequest['query']): URL {
  const u = new URL(url);
  if (query) {
    const parts: string[] = [];
    for (const [k, v] of Object.entries(query)) {
      if (v === undefined) continue;
      parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
    }
    if (parts.length > 0) {
      const existing = u.search.replace(/^\?/, '');
      u.search = (existing ? `${existing}&` : '') + parts.join('&');
    }
  }
  return u;
}

/** Encodes whichever body the request carries; at most one of json/form/multipart/body may be set. */
export function encodeBody(req: HttpRequest): EncodedBody {
  const kinds = [
    req.json !== undefined,
    req.form !== undefined,
    req.multipart !== undefined,
    req.body !== undefined,
  ];
  if (kinds.filter(Boolean).length > 1) {
    throw new TypeError('HttpRequest: set only one of json, form, multipart or body');
  }
  if (req.json !== undefined) {
    return { data: Buffer.from(JSON.stringify(req.json), 'utf8'), contentType: 'application/json' };
  }
  if (req.form !== undefined) {
    return {
      data: Buffer.from(new URLSearchParams(req.form).toString(), 'utf8'),
      contentType: 'application/x-www-form-urlencoded',
    };
  }
  if (req.multipart !== undefined) {
    return encodeMultipart(req.multipart.fields, req.multipart.files);
  }
  if (req.body !== undefined) {
    return {
      data: Buffer.isBuffer(req.body) ? req.body : Buffer.from(req.body, 'utf8'),
      contentType: 'application/octet-stream',
    };
  }
  return {};
}

/** multipart/form-data (RFC 7578) built by hand so the exact bytes are known and resendable. */
export function encodeMultipart(
  fields: Record<string, string>,
  files: MultipartFile[],
  boundary = `----DevOpsTaskBoundary${randomBytes(12).toString('hex')}`,
): EncodedBody {
  const chunks: Buffer[] = [];
  const push = (s: string): void => {
    chunks.push(Buffer.from(s, 'utf8'));
  };
  for (const [name, value] of Object.entries(fields)) {
    push(`--${boundary}\r\nContent-Disposition: form-data; name="${quote(name)}"\r\n\r\n`);
    push(value);
    push('\r\n');
  }
  for (const f of files) {
    push(
      `--${boundary}\r\nContent-Disposition: form-data; name="${quote(f.name)}"; filename="${quote(f.filename)}"\r\n` +
        `Content-Type: ${f.contentType ?? 'application/octet-stream'}\r\n\r\n`,
    );
    chunks.push(f.content);
    push('\r\n');
  }
  push(`--${boundary}--\r\n`);
  return { data: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

// Quotes and line breaks would break the header; browsers percent-encode them the same way.
function quote(s: string): string {
  return s.replace(/"/g, '%22').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}
