/**
 * The fixed values of command-line flags, stated once: the option help texts in main.ts and the validation in
 * build-options.ts and commands/test.ts both read these lists.
 */
import { InputError, quoteShort } from '../config/errors.js';
import { SCHEMES } from '../config/schemes.js';
import { ALIAS_KINDS } from '../config/tags.js';
import { NETWORK_MODES } from '../plan/types.js';

export { ALIAS_KINDS, NETWORK_MODES, SCHEMES };
export const DRIVER_CHOICES = ['auto', 'docker', 'buildx'] as const;
export const CACHE_MODES = ['registry', 'none'] as const;
export const PROGRESS_MODES = ['auto', 'tty', 'plain', 'json'] as const;
export const GPU_MODES = ['auto', 'all', 'none'] as const;

/** `a, b or c`, for help texts. */
export function choiceText(choices: readonly string[]): string {
  return choices.length < 2 ? choices.join('') : `${choices.slice(0, -1).join(', ')} or ${choices.at(-1)}`;
}

/** The value when it is one of `allowed` (`dflt` when the flag was not given); bad input (exit 2) otherwise. */
export function oneOf<T extends string>(flag: string, value: string | undefined, allowed: readonly T[], dflt: T): T {
  if (value === undefined) return dflt;
  if (!(allowed as readonly string[]).includes(value))
    throw new InputError(`${flag} ${quoteShort(value)} is not allowed`, undefined, `use one of: ${allowed.join(', ')}`);
  return value as T;
}
