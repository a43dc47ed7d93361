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

/** Several input errors found in one pass; reported together so the user can fix them at once. */
export class InputErrors extends InputError {
  readonly errors: InputError[];
  constructor(errors: InputError[]) {
    super(errors.map((e) => e.format()).join('\n'));
    this.errors = errors;
  }
  override format(): string {
    return this.errors.map((e) => e.format()).join('\n');
  }
  override toJSON(): Record<string, unknown> {
    return { kind: 'InputErrors', exitCode: 2, errors: this.errors.map((e) => e.toJSON()) };
  }
}

/** Throw all collected errors (one as itself, several as InputErrors), or nothing. */
export function throwCollected(errors: InputError[]): void {
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new InputErrors(errors);
}
