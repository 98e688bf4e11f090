/**
 * The first query parameter named twice, or null. The gateway reads a parameter's first value
 * and a store may read its last (`new_edits=true&new_edits=false` was an interactive write to
 * one and a replicated one to the other), so a request that names one twice is refused: no
 * client of ours sends one.
 */
export function duplicateParam(query: string): string | null {
  if (query === '') return null;
  const seen = new Set<string>();
  for (const key of new URLSearchParams(query).keys()) {
    if (seen.has(key)) return key;
    seen.add(key);
  }
  return null;
}
