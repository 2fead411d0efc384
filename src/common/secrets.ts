/**
 * Process-wide registry of secret values. Core code registers every secret it
 * reads or mints here; src/pipeline subscribes and forwards each one to
 * tl.setSecret, and error/log formatting calls redact() as a second line of defence.
 */
type Listener = (value: string) => void;

const secrets = new Set<string>();
const listeners: Listener[] = [];

// Very short values would redact ordinary words; the agent masks those anyway.
const MIN_SECRET_LENGTH = 4;

export function registerSecret(value: string | undefined | null): void {
  if (!value || value.length < MIN_SECRET_LENGTH || secrets.has(value)) return;
  secrets.add(value);
  for (const l of listeners) l(value);
}

export function onSecretRegistered(listener: Listener): void {
  listeners.push(listener);
  for (const s of secrets) listener(s);
}

export function redact(text: string): string {
  let out = text;
  for (const s of secrets) {
    if (out.includes(s)) out = out.split(s).join('***');
  }
  return out;
}

/** For tests only. */
export function clearSecretsForTest(): void {
  secrets.clear();
  listeners.length = 0;
}
