import { redact, redactAndTruncate } from '../common/secrets';

/** Bad task input: the message names the input (its task.json name) and says how to fix it. */
export class InputError extends Error {
  readonly input: string;
  constructor(input: string, message: string) {
    super(redact(message));
    this.name = 'InputError';
    this.input = input;
  }
}

/** Shows a user value in a message: one line, bounded length. */
export function quoteValue(value: string, max = 80): string {
  // Masked before the cut, or the start of a secret across it would survive.
  return `'${redactAndTruncate(redact(value).replace(/\r?\n/g, '\\n'), max)}'`;
}
