/**
 * Characters no workspace path needs: C0 and C1 controls, DEL, line and paragraph
 * separators and bidirectional overrides. They can rewrite what the log shows
 * (terminal escapes, fake line breaks) or disguise a name, so inputs carrying them
 * are refused and messages show them escaped.
 */
// eslint-disable-next-line no-control-regex
const CONTROL_CHAR = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const CONTROL_CHARS = new RegExp(CONTROL_CHAR.source, 'g');

export function hasControlChar(text: string): boolean {
  return CONTROL_CHAR.test(text);
}

/** The text with every such character written as \uXXXX, safe to put in a message. */
export function printable(text: string): string {
  return text.replace(CONTROL_CHARS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
