/**
 * Environment variables in config strings, in the forms POSIX shells and Docker Compose use:
 * `$VAR`, `${VAR}`, `${VAR:-default}` (unset or empty), `${VAR-default}` (unset only),
 * `${VAR:?message}` (an error when unset or empty), `${VAR?message}` (when unset), and `$$`
 * for a literal `$`. A `$` followed by anything else stays as it is. Applied to YAML scalars one
 * by one (not to the raw text), so an error can point at the scalar's line and column and a
 * value can never inject YAML structure.
 */
const PATTERN = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g;

export type Env = Readonly<Record<string, string | undefined>>;

/** A variable the text needs and the environment does not give; `message` from `:?`/`?`. */
export interface MissingVariable {
  readonly name: string;
  readonly message?: string | undefined;
}

/**
 * Returns the interpolated string and the variables that are missing. `placeholder`, when
 * given, stands in for each missing one (commands that never send, e.g. `status`, need the
 * config's shape but not its secrets).
 */
export function interpolate(text: string, env: Env, placeholder?: (name: string) => string): { value: string; missing: MissingVariable[] } {
  const missing: MissingVariable[] = [];
  const value = text.replace(PATTERN, (whole, braced: string | undefined, op: string | undefined, arg: string | undefined, bare: string | undefined) => {
    if (whole === '$$') return '$';
    const name = (braced ?? bare)!;
    const v = env[name];
    const emptyCounts = op === undefined || op.startsWith(':');
    const set = v !== undefined && !(emptyCounts && v === '');
    if (set) return v;
    if (op === ':-' || op === '-') return arg!;
    missing.push(op === ':?' || op === '?' ? { name, message: arg || undefined } : { name });
    return placeholder ? placeholder(name) : '';
  });
  return { value, missing };
}
