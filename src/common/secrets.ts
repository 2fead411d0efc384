/**
 * Process-wide registry of secret values. Core code registers every secret it
 * reads or mints here; src/pipeline subscribes and forwards each one to
 * tl.setSecret, and error/log formatting calls redact() as a second line of defence.
 */
type Listener = (value: string) => void;

const secrets = new Set<string>();
const listeners: Listener[] = [];
// Longest first, so a secret that contains another is masked whole, not left with its tail.
let longestFirst: string[] = [];

// Very short values would redact ordinary words; the agent masks those anyway.
const MIN_SECRET_LENGTH = 4;

export function registerSecret(value: string | undefined | null): void {
  if (!value || value.length < MIN_SECRET_LENGTH || secrets.has(value)) return;
  secrets.add(value);
  longestFirst = [...secrets].sort((a, b) => b.length - a.length);
  for (const l of listeners) l(value);
}

export function onSecretRegistered(listener: Listener): void {
  listeners.push(listener);
  for (const s of secrets) listener(s);
}

export function redact(text: string): string {
  let out = text;
  for (const s of longestFirst) {
    if (out.includes(s)) out = out.split(s).join('***');
  }
  return out;
}

/**
 * Masks every registered secret, then cuts to at most `max` characters (ending in '…' when
 * cut). Always in that order: cutting first would leave the start of a secret that straddles
 * the cut where redact() can no longer recognise it.
 */
export function redactAndTruncate(text: string, max: number): string {
  const out = redact(text);
  if (out.length <= max) return out;
  if (max < 1) return '';
  let end = max - 1;
  // Never leave half of a surrogate pair before the ellipsis.
  const last = out.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${out.slice(0, end)}…`;
}

/** For tests only. */
export function clearSecretsForTest(): void {
  secrets.clear();
  longestFirst = [];
  listeners.length = 0;
}
