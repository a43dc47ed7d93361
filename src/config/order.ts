/**
 * Plain code-unit order for sorting keys and paths: stable across machines and locales, and it costs nothing,
 * where String#localeCompare loads ICU's collator on first use (≈ 8 ms of every CLI start).
 */
export function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
