/**
 * Access tokens the emulator mints and checks: HS256 JWTs signed with a key
 * made per emulator, so every plugin can verify any token (an ARM token sent to
 * a workspace, a Databricks OAuth token, an Entra token) and tell expired from forged.
 */
import * as crypto from 'node:crypto';

export interface TokenClaims {
  /** Audience: a resource id/URL, e.g. '2ff814a6-…' or 'https://management.azure.com/'. */
  aud: string;
  /** Subject: the client / principal id. */
  sub: string;
  iss?: string;
  tid?: string;
  appid?: string;
  /** Issued-at and expiry, seconds since epoch. */
  iat?: number;
  exp?: number;
  [k: string]: unknown;
}

export type VerifyResult =
  { ok: true; claims: TokenClaims } | { ok: false; reason: 'invalid' | 'expired' | 'revoked' };

function b64url(buf: Buffer | string): string {
  return Buffer.from(buf).toString('base64url');
}

export class TokenRegistry {
  private readonly key = crypto.randomBytes(32);
  private readonly revoked = new Set<string>();
  /** Default lifetime of minted tokens in seconds. */
  defaultTtlSeconds = 3600;
  issued = 0;

  issue(
    claims: TokenClaims,
    ttlSeconds = this.defaultTtlSeconds,
  ): { token: string; expiresOn: number; ttl: number } {
    const nowS = Date.now() / 1000;
    // exp rounds up, so a token lives at least ttlSeconds and an expires_in of ttl never overstates it.
    const full: TokenClaims = {
      iat: Math.floor(nowS),
      exp: Math.ceil(nowS + ttlSeconds),
      jti: crypto.randomUUID(),
      ...claims,
    };
    const header = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
    const payload = b64url(JSON.stringify(full));
    const sig = b64url(crypto.createHmac('sha256', this.key).update(`${header}.${payload}`).digest());
    this.issued++;
    return { token: `${header}.${payload}.${sig}`, expiresOn: full.exp as number, ttl: ttlSeconds };
  }

  verify(token: string | undefined): VerifyResult {
    if (!token) return { ok: false, reason: 'invalid' };
    const parts = token.split('.');
    if (parts.length !== 3) return { ok: false, reason: 'invalid' };
    const expected = b64url(crypto.createHmac('sha256', this.key).update(`${parts[0]}.${parts[1]}`).digest());
    const a = Buffer.from(expected);
    const b = Buffer.from(parts[2]);
    if (a.length !== b.length || !crypto.timingSafeEqual(a, b)) return { ok: false, reason: 'invalid' };
    if (this.revoked.has(token)) return { ok: false, reason: 'revoked' };
    let claims: TokenClaims;
    try {
      claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as TokenClaims;
    } catch {
      return { ok: false, reason: 'invalid' };
    }
    if (typeof claims.exp === 'number' && claims.exp * 1000 <= Date.now())
      return { ok: false, reason: 'expired' };
    return { ok: true, claims };
  }

  revoke(token: string): void {
    this.revoked.add(token);
  }

  /** Reads a bearer token from an Authorization header value. */
  static bearer(header: string | string[] | undefined): string | undefined {
    const h = Array.isArray(header) ? header[0] : header;
    const m = /^Bearer\s+(.+)$/i.exec(h ?? '');
    return m?.[1].trim();
  }
}
