/**
 * A hostile service for the secret scan: an extra emulator host that answers every request
 * with an error whose message repeats the credential the request carried (the bearer token,
 * the OAuth client secret of a Basic header or form), as a careless or compromised service
 * might. `offset` pads the message so the secret starts at that character, which puts it
 * across the points where error messages are cut short.
 */
import type { EmuHost, EmuRequest } from '../emulator/core';
import type { Lane } from './lane';

export interface EchoOptions {
  /** Characters of padding before the secret in the message. */
  offset: number;
}

export interface EchoHost {
  host: EmuHost;
  url: string;
  /** Set before each run. */
  options: EchoOptions;
}

function credentialOf(req: EmuRequest): string {
  const auth = String(req.headers.authorization ?? '');
  const bearer = /^Bearer\s+(.+)$/i.exec(auth);
  if (bearer) return bearer[1];
  const basic = /^Basic\s+(.+)$/i.exec(auth);
  if (basic) {
    const text = Buffer.from(basic[1], 'base64').toString('utf8');
    return decodeURIComponent(text.slice(text.indexOf(':') + 1));
  }
  return req.form?.client_secret ?? req.form?.client_assertion ?? '(no credential)';
}

function pad(n: number): string {
  const words = 'the service could not process the request because ';
  return words.repeat(Math.ceil(n / words.length) + 1).slice(0, n);
}

/** Adds host `echo-<style>` whose every route answers with the request's credential in the error. */
export async function addEchoHost(lane: Lane, style: 'databricks' | 'azure'): Promise<EchoHost> {
  const emu = lane.emu;
  const role = `echo-${style}`;
  const host = await emu.addHost(role, { role, style });
  const echo: EchoHost = { host, url: host.url, options: { offset: 0 } };
  const handler = (req: EmuRequest) => {
    const message = `${pad(echo.options.offset)}${credentialOf(req)} was rejected.`;
    if (/\/oidc\/v1\/token$/.test(req.path) || req.form) {
      // An OAuth token endpoint's error shape.
      return { status: 401, json: { error: 'invalid_client', error_description: message } };
    }
    return emu.error(
      host,
      400,
      style === 'azure' ? 'InvalidRequestContent' : 'INVALID_PARAMETER_VALUE',
      message,
    );
  };
  for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'])
    emu.route(role, method, '/*', 'echo', handler);
  return echo;
}
