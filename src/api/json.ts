/**
 * Duplicate keys in JSON text. `JSON.parse` keeps the last of two equal keys silently; another
 * parser (a proxy, an audit log, a client library) may keep the first, so the same bytes would
 * mean two things (a parser differential). The API refuses such bodies (`invalid_json`).
 */

/**
 * The first key that appears twice in one object of `text` (already known to be valid JSON),
 * or undefined. One pass, no allocation per value.
 */
export function firstDuplicateKey(text: string): string | undefined {
  // per open container: the keys seen (objects) or null (arrays)
  const stack: (Set<string> | null)[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let j = i + 1;
      let escaped = false;
      for (; j < text.length; j++) {
        const d = text.charCodeAt(j);
        if (d === 0x5c /* \ */) {
          escaped = true;
          j++;
        } else if (d === 0x22) break;
      }
      const top = stack[stack.length - 1];
      if (expectKey && top) {
        const raw = text.slice(i + 1, j);
        const key = escaped ? (JSON.parse(`"${raw}"`) as string) : raw;
        if (top.has(key)) return key;
        top.add(key);
        expectKey = false;
      }
      i = j;
    } else if (c === 0x7b /* { */) {
      stack.push(new Set());
      expectKey = true;
    } else if (c === 0x5b /* [ */) {
      stack.push(null);
      expectKey = false;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
      expectKey = false;
    } else if (c === 0x2c /* , */) {
      expectKey = stack[stack.length - 1] != null;
    }
  }
  return undefined;
}
