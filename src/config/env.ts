/**
 * `${VAR}` and `${VAR:-default}` interpolation in config strings. Applied to YAML scalars one
 * by one (not to the raw text), so an error can point at the scalar's line and column and a
 * value can never inject YAML structure.
 */
const PATTERN = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$\$/g;

export type Env = Readonly<Record<string, string | undefined>>;

/** Returns the interpolated string, or the names of the variables that are missing. */
export function interpolate(text: string, env: Env): { value: string; missing: string[] } {
  const missing: string[] = [];
  const value = text.replace(PATTERN, (whole, name: string | undefined, def: string | undefined) => {
    if (whole === '$$') return '$';
    const v = env[name!];
    if (v !== undefined && v !== '') return v;
    if (def !== undefined) return def;
    missing.push(name!);
    return '';
  });
  return { value, missing };
}
