/**
 * A small kubectl-style JSONPath template evaluator for `-o jsonpath=EXPR` and
 * `-o jsonpath-as-json=EXPR`.
 *
 * Templates mix text and `{…}` expressions: `{.name}`, `{.items[*].name}`, `{.a[0]}`,
 * `{.a[-1]}`, `{.a[1:3]}`, `{.a['key-with-dash']}`, `{..name}` (recursive), `{.items[?(@.status=="failed")].name}`,
 * `{range .items[*]}{.name}{"\n"}{end}`, string literals `{"\t"}`. Paths start with `.`, `$` (the
 * root) or `@` (the current item, inside `range`). Several results of one expression are joined
 * by a space; strings print raw, everything else as JSON. A template without `{` is taken as one
 * expression (`name` ≡ `{.name}`). Missing keys produce nothing.
 */

export class JsonPathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JsonPathError';
  }
}

type Step =
  | { kind: 'child'; name: string }
  | { kind: 'recursive'; name: string | '*' }
  | { kind: 'wildcard' }
  | { kind: 'index'; index: number }
  | { kind: 'slice'; start?: number; end?: number }
  | { kind: 'filter'; path: Path; op?: string; value?: unknown };

interface Path {
  root: '$' | '@';
  steps: Step[];
}

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'expr'; path: Path }
  | { kind: 'range'; path: Path; body: Node[] };

const NAME = /^[A-Za-z0-9_\-]+/;

function parseLiteral(src: string): unknown {
  const s = src.trim();
  if (/^'.*'$/s.test(s)) return s.slice(1, -1);
  if (/^".*"$/s.test(s)) return JSON.parse(s) as unknown;
  if (s === 'true' || s === 'false') return s === 'true';
  if (s === 'null') return null;
  if (/^-?\d+(\.\d+)?$/.test(s)) return Number(s);
  throw new JsonPathError(`cannot read the value ${src} in a filter; quote strings`);
}

function parsePath(src: string): Path {
  let s = src.trim();
  let root: Path['root'] = '@';
  if (s.startsWith('$')) {
    root = '$';
    s = s.slice(1);
  } else if (s.startsWith('@')) s = s.slice(1);
  const steps: Step[] = [];
  if (s !== '' && !s.startsWith('.') && !s.startsWith('[')) s = `.${s}`;
  while (s.length > 0) {
    if (s.startsWith('..')) {
      s = s.slice(2);
      if (s.startsWith('*')) {
        steps.push({ kind: 'recursive', name: '*' });
        s = s.slice(1);
        continue;
      }
      const m = NAME.exec(s);
      if (!m) throw new JsonPathError(`expected a name after '..' in "${src}"`);
      steps.push({ kind: 'recursive', name: m[0] });
      s = s.slice(m[0].length);
    } else if (s.startsWith('.')) {
      s = s.slice(1);
      if (s === '') break; // `{.}` is the current value
      if (s.startsWith('*')) {
        steps.push({ kind: 'wildcard' });
        s = s.slice(1);
        continue;
      }
      if (s.startsWith('[')) continue;
      const m = NAME.exec(s);
      if (!m) throw new JsonPathError(`expected a field name at "${s}" in "${src}"`);
      steps.push({ kind: 'child', name: m[0] });
      s = s.slice(m[0].length);
    } else if (s.startsWith('[')) {
      const close = findClose(s);
      const inner = s.slice(1, close).trim();
      s = s.slice(close + 1);
      steps.push(parseBracket(inner, src));
    } else {
      throw new JsonPathError(`unexpected "${s}" in "${src}"`);
    }
  }
  return { root, steps };
}

/** Index of the `]` closing the `[` at 0, skipping quoted strings and nested brackets. */
function findClose(s: string): number {
  let depth = 0;
  let quote: string | undefined;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '[') depth++;
    else if (c === ']' && --depth === 0) return i;
  }
  throw new JsonPathError(`unclosed '[' in "${s}"`);
}

function parseBracket(inner: string, src: string): Step {
  if (inner === '*') return { kind: 'wildcard' };
  if (/^-?\d+$/.test(inner)) return { kind: 'index', index: Number(inner) };
  const slice = /^(-?\d+)?\s*:\s*(-?\d+)?$/.exec(inner);
  if (slice) {
    const step: Step = { kind: 'slice' };
    if (slice[1] !== undefined) step.start = Number(slice[1]);
    if (slice[2] !== undefined) step.end = Number(slice[2]);
    return step;
  }
  if (/^'.*'$|^".*"$/s.test(inner)) return { kind: 'child', name: parseLiteral(inner) as string };
  const filter = /^\?\((.*)\)$/s.exec(inner);
  if (filter) {
    const m = /^(.*?)\s*(==|!=|<=|>=|<|>)\s*(.*)$/s.exec(filter[1]!);
    if (!m) return { kind: 'filter', path: parsePath(filter[1]!) };
    return { kind: 'filter', path: parsePath(m[1]!), op: m[2]!, value: parseLiteral(m[3]!) };
  }
  throw new JsonPathError(`cannot read "[${inner}]" in "${src}"`);
}

function parseTemplate(template: string): Node[] {
  const src = template.includes('{') ? template : `{${template}}`;
  const root: Node[] = [];
  const stack: Node[][] = [root];
  let i = 0;
  while (i < src.length) {
    const open = src.indexOf('{', i);
    const top = stack[stack.length - 1]!;
    if (open < 0) {
      top.push({ kind: 'text', text: src.slice(i) });
      break;
    }
    if (open > i) top.push({ kind: 'text', text: src.slice(i, open) });
    const close = findBrace(src, open);
    const expr = src.slice(open + 1, close).trim();
    i = close + 1;
    if (/^"(?:[^"\\]|\\.)*"$/s.test(expr) || /^'[^']*'$/s.test(expr)) {
      top.push({ kind: 'text', text: parseLiteral(expr) as string });
    } else if (expr.startsWith('range ')) {
      const body: Node[] = [];
      top.push({ kind: 'range', path: parsePath(expr.slice(6)), body });
      stack.push(body);
    } else if (expr === 'end') {
      if (stack.length === 1) throw new JsonPathError(`{end} without {range} in "${template}"`);
      stack.pop();
    } else {
      top.push({ kind: 'expr', path: parsePath(expr) });
    }
  }
  if (stack.length > 1) throw new JsonPathError(`{range} without {end} in "${template}"`);
  return root;
}

function findBrace(src: string, open: number): number {
  let quote: string | undefined;
  for (let i = open + 1; i < src.length; i++) {
    const c = src[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '}') return i;
  }
  throw new JsonPathError(`unclosed '{' in "${src}"`);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function children(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  if (isObject(v)) return Object.values(v);
  return [];
}

function descendants(v: unknown, out: unknown[] = []): unknown[] {
  for (const c of children(v)) {
    out.push(c);
    descendants(c, out);
  }
  return out;
}

function compare(a: unknown, op: string, b: unknown): boolean {
  switch (op) {
    case '==':
      return a === b || (typeof a === 'number' && String(a) === String(b));
    case '!=':
      return a !== b;
    default: {
      if (typeof a !== typeof b || (typeof a !== 'number' && typeof a !== 'string')) return false;
      const x = a as number | string;
      const y = b as number | string;
      return op === '<' ? x < y : op === '>' ? x > y : op === '<=' ? x <= y : x >= y;
    }
  }
}

function evalPath(path: Path, root: unknown, current: unknown): unknown[] {
  let values: unknown[] = [path.root === '$' ? root : current];
  for (const step of path.steps) {
    const next: unknown[] = [];
    for (const v of values) {
      switch (step.kind) {
        case 'child':
          if (isObject(v) && Object.prototype.hasOwnProperty.call(v, step.name)) next.push(v[step.name]);
          break;
        case 'wildcard':
          next.push(...children(v));
          break;
        case 'recursive':
          for (const d of [v, ...descendants(v)]) {
            if (step.name === '*') {
              if (d !== v) next.push(d);
            } else if (isObject(d) && Object.prototype.hasOwnProperty.call(d, step.name)) next.push(d[step.name]);
          }
          break;
        case 'index':
          if (Array.isArray(v)) {
            const i = step.index < 0 ? v.length + step.index : step.index;
            if (i >= 0 && i < v.length) next.push(v[i]);
          }
          break;
        case 'slice':
          if (Array.isArray(v)) next.push(...v.slice(step.start ?? 0, step.end ?? v.length));
          break;
        case 'filter':
          for (const item of children(v)) {
            const found = evalPath(step.path, root, item);
            if (step.op === undefined ? found.some((x) => x !== undefined && x !== null && x !== false) : found.some((x) => compare(x, step.op!, step.value))) {
              next.push(item);
            }
          }
          break;
      }
    }
    values = next;
  }
  return values.filter((v) => v !== undefined);
}

function show(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function render(nodes: Node[], root: unknown, current: unknown, results: unknown[]): string {
  let out = '';
  for (const node of nodes) {
    if (node.kind === 'text') out += node.text;
    else if (node.kind === 'expr') {
      const found = evalPath(node.path, root, current);
      results.push(...found);
      out += found.map(show).join(' ');
    } else {
      for (const item of evalPath(node.path, root, current)) out += render(node.body, root, item, results);
    }
  }
  return out;
}

/** Checks that `template` parses (throws `JsonPathError` if not), without evaluating it. */
export function checkJsonPath(template: string): void {
  parseTemplate(template);
}

/** Evaluates a template against `data`: the text kubectl's `-o jsonpath=` would print. */
export function jsonPathText(template: string, data: unknown): string {
  return render(parseTemplate(template), data, data, []);
}

/** Every value the template's expressions select, in order (`-o jsonpath-as-json=`). */
export function jsonPathValues(template: string, data: unknown): unknown[] {
  const results: unknown[] = [];
  render(parseTemplate(template), data, data, results);
  return results;
}
