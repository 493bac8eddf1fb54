/**
 * `.dockerignore` as Docker reads it: one pattern a line, `#` comments, `!` re-includes, `*`
 * `?` and `[...]` within a path segment, `**` across segments; the last matching line wins. A
 * path is excluded too when one of its parent directories matches. Paths are relative to the
 * context, with `/` separators.
 */
export type IgnoreMatcher = (relPath: string) => boolean;

interface Rule {
  negate: boolean;
  re: RegExp;
}

function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        i++;
        if (glob[i + 1] === '/') {
          i++;
          re += '(?:.*/)?';
        } else re += '.*';
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end < 0) re += '\\[';
      else {
        re += `[${glob.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else if (c === '\\' && i + 1 < glob.length) re += '\\' + glob[++i];
    else re += c.replace(/[.+^${}()|\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

function clean(p: string): string {
  return p.split('/').filter((s) => s !== '' && s !== '.').join('/');
}

export function parseDockerignore(text: string): IgnoreMatcher {
  const rules: Rule[] = [];
  for (const raw of text.split(/\r?\n/)) {
    let line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const negate = line.startsWith('!');
    if (negate) line = line.slice(1).trim();
    line = clean(line);
    if (line === '') continue;
    rules.push({ negate, re: globToRegExp(line) });
  }
  return (relPath) => {
    const parts = clean(relPath).split('/');
    let excluded = false;
    for (const rule of rules) {
      // A rule matches the path or any of its parents.
      for (let n = 1; n <= parts.length; n++) {
        if (rule.re.test(parts.slice(0, n).join('/'))) {
          excluded = !rule.negate;
          break;
        }
      }
    }
    return excluded;
  };
}
