/** Dockerfile value quoting. ARG defaults are literal (no $ expansion); ENV values may refer to ${VARS}. */
const BARE = /^[A-Za-z0-9_.:/@+,=-]+$/;

export function argValue(v: string): string {
  if (BARE.test(v)) return v;
  return `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\$/g, '\\$').replace(/\n/g, '\\n')}"`;
}

export function envValue(v: string): string {
  return `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}
