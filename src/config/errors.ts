/**
 * Errors the CLI knows how to report. InputError = the user's files, flags or environment are wrong
 * (exit 2, nothing was built); RunError = something failed while doing the work (exit 1).
 */

export interface Location {
  file?: string;
  line?: number;
  column?: number;
  /** YAML path such as `from.parent` or `layers[2]`, when the error is inside a manifest. */
  path?: string;
}

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export class IdekubeError extends Error {
  readonly exitCode: number;
  readonly location: Location;
  readonly fix: string | undefined;

  constructor(message: string, opts: { exitCode: number; location?: Location; fix?: string; cause?: unknown }) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.exitCode = opts.exitCode;
    this.location = opts.location ?? {};
    this.fix = opts.fix;
  }

  /** `file:line:col: ` prefix (only the parts that are known). */
  where(): string {
    const { file, line, column } = this.location;
    if (!file) return '';
    let s = file;
    if (line !== undefined) s += `:${line}`;
    if (line !== undefined && column !== undefined) s += `:${column}`;
    return `${s}: `;
  }

  /** One-paragraph human text: location, message, fix. */
  format(): string {
    const path = this.location.path ? ` (at ${this.location.path})` : '';
    let s = `${this.where()}${this.message}${path}`;
    if (this.fix) s += `\n  fix: ${this.fix}`;
    return s;
  }

  toJSON(): Record<string, unknown> {
    return {
      kind: this.name,
      message: this.message,
      exitCode: this.exitCode,
      ...this.location,
      ...(this.fix ? { fix: this.fix } : {}),
    };
  }
}

/** Bad input: a manifest, a `.dockerargs` line, a flag or an environment variable. Exit code 2. */
export class InputError extends IdekubeError {
  constructor(message: string, location?: Location, fix?: string) {
    super(message, { exitCode: 2, ...(location ? { location } : {}), ...(fix ? { fix } : {}) });
  }
}

/** A failure while working (engine, registry, network, a build step). Exit code 1. */
export class RunError extends IdekubeError {
  constructor(message: string, opts: { fix?: string; cause?: unknown } = {}) {
    super(message, { exitCode: 1, ...opts });
  }
}

/** At most this many errors are shown; the rest are counted ("… and N more"). */
export const MAX_ERRORS_SHOWN = 20;

/** Several input errors found in one pass; reported together so the user can fix them at once (the first 20). */
export class InputErrors extends InputError {
  readonly errors: InputError[];
  /** Errors found but not kept (beyond MAX_ERRORS_SHOWN). */
  readonly omitted: number;
  constructor(errors: InputError[], omitted = 0) {
    const kept = errors.length > MAX_ERRORS_SHOWN ? errors.slice(0, MAX_ERRORS_SHOWN) : errors;
    const more = omitted + errors.length - kept.length;
    super(formatAll(kept, more));
    this.errors = kept;
    this.omitted = more;
  }
  override format(): string {
    return formatAll(this.errors, this.omitted);
  }
  override toJSON(): Record<string, unknown> {
    return {
      kind: 'InputErrors',
      exitCode: 2,
      errors: this.errors.map((e) => e.toJSON()),
      ...(this.omitted ? { omitted: this.omitted } : {}),
    };
  }
}

function formatAll(errors: InputError[], omitted: number): string {
  const lines = errors.map((e) => e.format());
  if (omitted) lines.push(`… and ${omitted} more error${omitted === 1 ? '' : 's'} (fix the ones above first)`);
  return lines.join('\n');
}

/**
 * Input errors of one pass, kept in order up to MAX_ERRORS_SHOWN and counted beyond: adding is O(1) whatever
 * arrives (a 1.5 MB file of bad lines is 100 000 errors; spreading them into one push overflowed the stack).
 */
export class ErrorList {
  readonly kept: InputError[] = [];
  omitted = 0;
  get length(): number {
    return this.kept.length + this.omitted;
  }
  add(e: InputError): void {
    if (e instanceof InputErrors) {
      for (const x of e.errors) this.add(x);
      this.omitted += e.omitted;
    } else if (this.kept.length < MAX_ERRORS_SHOWN) this.kept.push(e);
    else this.omitted++;
  }
  /** Runs fn; an InputError it throws is added (anything else propagates). */
  collect<T>(fn: () => T): T | undefined {
    try {
      return fn();
    } catch (e) {
      if (e instanceof InputError) {
        this.add(e);
        return undefined;
      }
      throw e;
    }
  }
  throwIfAny(): void {
    if (this.kept.length === 1 && this.omitted === 0) throw this.kept[0];
    if (this.length) throw new InputErrors(this.kept, this.omitted);
  }
}

/** Throw all collected errors (one as itself, several as InputErrors, at most MAX_ERRORS_SHOWN kept), or nothing. */
export function throwCollected(errors: InputError[] | ErrorList): void {
  if (errors instanceof ErrorList) {
    errors.throwIfAny();
    return;
  }
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new InputErrors(errors);
}

/** Adds `e` to `errors`, one by one when it holds several (never `push(...all)`: the stack bounds spread arguments). */
export function addErrors(errors: InputError[], e: InputError): void {
  if (e instanceof InputErrors) {
    for (const x of e.errors) errors.push(x);
  } else errors.push(e);
}

/** A user-given value in a message: JSON-quoted and cut to `max` characters (an error message stays bounded). */
export function quoteShort(value: string, max = 60, withLength = true): string {
  if (value.length <= max) return JSON.stringify(value);
  return `${JSON.stringify(value.slice(0, max))}…${withLength ? ` (${value.length} characters)` : ''}`;
}

/** A list of names in a message: the first `max`, then how many more (a catalog of 5000 flavors stays one line). */
export function listSome(items: readonly string[], max = 12): string {
  if (items.length <= max) return items.join(', ');
  return `${items.slice(0, max).join(', ')}, … (${items.length} in all)`;
}

/** The message of something thrown: an Error's (from any realm), anything else as text. */
export function messageOf(e: unknown): string {
  if (typeof e === 'object' && e !== null && 'message' in e && typeof e.message === 'string') return e.message;
  return String(e);
}
