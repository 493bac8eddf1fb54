/**
 * CPU and memory quantities, and the allowed cpu/memory pairs (reference §4.1, §4.2).
 *
 * Supported memory / storage units (a subset of the API's `^([0-9.]+)([eEinumkKMGTPB]*)$`,
 * ≤ 10 characters, reference §4.2):
 *
 * | suffix         | factor            |
 * |----------------|-------------------|
 * | none           | bytes             |
 * | `k`, `K`       | 1000              |
 * | `M`            | 1000²  (decimal)  |
 * | `G`            | 1000³  (decimal)  |
 * | `T`            | 1000⁴  (decimal)  |
 * | `Ki`,`Mi`,`Gi`,`Ti` | 1024, 1024², 1024³, 1024⁴ |
 *
 * Rejected: exponents (`e`), milli (`m`), `P`/`E`, `B`-suffixed forms (`GB`), and anything that
 * is not a whole number of bytes. cpu is a decimal number of vCPUs with at most three decimals
 * (`"0.125"`) or Kubernetes millicores (`"500m"`), also ≤ 10 characters.
 */
import { CejobsError, type FieldIssue } from './errors.js';
import { invalid } from './issues.js';

/** Longest accepted quantity string (Terraform validator, reference §4.2). */
export const MAX_QUANTITY_LENGTH = 10;
/** Largest ephemeral storage (reference §4.1). */
export const MAX_EPHEMERAL_STORAGE_BYTES = 48_000_000_000;
/** Ephemeral storage may always reach this, even with less memory (reference §4.2). */
export const EPHEMERAL_STORAGE_FLOOR_BYTES = 400_000_000;

const MEMORY_UNITS: Readonly<Record<string, bigint>> = {
  '': 1n,
  k: 1000n,
  K: 1000n,
  M: 1000n ** 2n,
  G: 1000n ** 3n,
  T: 1000n ** 4n,
  Ki: 1024n,
  Mi: 1024n ** 2n,
  Gi: 1024n ** 3n,
  Ti: 1024n ** 4n,
};
const MEMORY_RULE =
  'a memory quantity is a number with an optional unit k, K, M, G, T (decimal) or Ki, Mi, Gi, Ti (binary), at most 10 characters, e.g. "4G", "512M", "0.5G"';
const CPU_RULE = 'cpu is a number of vCPUs with at most 3 decimals ("0.125", "1") or millicores ("500m")';

const DECIMAL = /^(?:([0-9]+)(?:\.([0-9]*))?|\.([0-9]+))$/;

/** Splits a decimal string into an integer mantissa and its count of decimals, exactly. */
function decimal(text: string): { mantissa: bigint; scale: number } | undefined {
  const m = DECIMAL.exec(text);
  if (!m) return undefined;
  const whole = m[1] ?? '0';
  const frac = m[2] ?? m[3] ?? '';
  return { mantissa: BigInt(whole + frac), scale: frac.length };
}

function fail(code: 'invalid_resources', field: string, value: unknown, rule: string): never {
  throw CejobsError.fromIssues([invalid(code, field, value, rule)]);
}

/**
 * Parses a cpu limit into thousandths of a vCPU: `"0.125"` → 125, `"1"` → 1000, `"500m"` → 500.
 * Throws `CejobsError('invalid_resources')` naming `field`, the value and the rule. Whether the
 * value is an allowed one is `checkResources`' job (reference §4.2).
 */
export function parseCpu(value: string, field = 'scale_cpu_limit'): number {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_QUANTITY_LENGTH) {
    fail('invalid_resources', field, value, CPU_RULE);
  }
  if (/^[0-9]+m$/.test(value)) return Number(value.slice(0, -1));
  const d = decimal(value);
  if (!d) fail('invalid_resources', field, value, CPU_RULE);
  const thousandths = d.mantissa * 1000n;
  const div = 10n ** BigInt(d.scale);
  if (thousandths % div !== 0n) fail('invalid_resources', field, value, `${CPU_RULE}; it is finer than 0.001 vCPU`);
  return Number(thousandths / div);
}

/**
 * Parses a memory or storage quantity into bytes: `"4G"` → 4e9, `"0.25G"` → 2.5e8,
 * `"1Gi"` → 1073741824, `"512"` → 512. Units as in the table above (reference §4.2).
 * Throws `CejobsError('invalid_resources')` naming `field`, the value and the rule.
 */
export function parseMemory(value: string, field = 'scale_memory_limit'): number {
  if (typeof value !== 'string' || value.length === 0) fail('invalid_resources', field, value, MEMORY_RULE);
  if (value.length > MAX_QUANTITY_LENGTH) {
    fail('invalid_resources', field, value, `${MEMORY_RULE}; it has ${value.length} characters`);
  }
  const m = /^([0-9.]+)([A-Za-z]*)$/.exec(value);
  const unit = m ? MEMORY_UNITS[m[2]!] : undefined;
  const d = m ? decimal(m[1]!) : undefined;
  if (!m || unit === undefined || !d) fail('invalid_resources', field, value, MEMORY_RULE);
  const scaled = d.mantissa * unit;
  const div = 10n ** BigInt(d.scale);
  if (scaled % div !== 0n) fail('invalid_resources', field, value, `${MEMORY_RULE}; it is not a whole number of bytes`);
  const bytes = scaled / div;
  if (bytes > BigInt(Number.MAX_SAFE_INTEGER)) fail('invalid_resources', field, value, `${MEMORY_RULE}; it is far too large`);
  return Number(bytes);
}

/** The valid cpu/memory pairs for jobs, exactly as reference §4.2 lists them. */
export const CPU_MEMORY_PAIRS: ReadonlyArray<{ cpu: string; memory: readonly string[] }> = [
  { cpu: '0.125', memory: ['0.25G', '0.5G', '1G'] },
  { cpu: '0.25', memory: ['0.5G', '1G', '2G'] },
  { cpu: '0.5', memory: ['1G', '2G', '4G'] },
  { cpu: '1', memory: ['2G', '4G', '8G'] },
  { cpu: '2', memory: ['4G', '8G', '16G'] },
  { cpu: '4', memory: ['8G', '16G', '32G'] },
  { cpu: '6', memory: ['12G', '24G', '48G'] },
  { cpu: '8', memory: ['16G', '32G'] },
  { cpu: '10', memory: ['20G', '40G'] },
  { cpu: '12', memory: ['24G', '48G'] },
];

/**
 * The resource issues of a spec (reference §4.1, §4.2), `[]` when valid:
 * - cpu and memory must parse and form one of `CPU_MEMORY_PAIRS`, compared numerically (cpu in
 *   thousandths, memory in bytes: `"4000M"` equals `"4G"`, `"500m"` equals `"0.5"`; binary
 *   units never equal a listed value, so `"4Gi"` is rejected);
 * - ephemeral storage must parse, be > 0, ≤ max(400M, memory) and ≤ 48G.
 * Every issue has code `invalid_resources` and names its field and value; a memory issue lists
 * the memory values allowed for that cpu.
 */
export function checkResources(spec: {
  scale_cpu_limit: string;
  scale_memory_limit: string;
  scale_ephemeral_storage_limit: string;
}): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const attempt = <T>(f: () => T): T | undefined => {
    try {
      return f();
    } catch (e) {
      if (e instanceof CejobsError) {
        issues.push(...e.issues);
        return undefined;
      }
      throw e;
    }
  };
  const cpu = attempt(() => parseCpu(spec.scale_cpu_limit));
  const memory = attempt(() => parseMemory(spec.scale_memory_limit));
  const storage = attempt(() => parseMemory(spec.scale_ephemeral_storage_limit, 'scale_ephemeral_storage_limit'));

  if (cpu !== undefined) {
    const pair = CPU_MEMORY_PAIRS.find((p) => parseCpu(p.cpu) === cpu);
    if (!pair) {
      issues.push(
        invalid('invalid_resources', 'scale_cpu_limit', spec.scale_cpu_limit, `cpu must be one of ${CPU_MEMORY_PAIRS.map((p) => p.cpu).join(', ')} vCPU`),
      );
    } else if (memory !== undefined && !pair.memory.some((m) => parseMemory(m) === memory)) {
      issues.push(
        invalid(
          'invalid_resources',
          'scale_memory_limit',
          spec.scale_memory_limit,
          `with scale_cpu_limit "${spec.scale_cpu_limit}" memory must be one of ${pair.memory.join(', ')} (Code Engine's supported cpu/memory combinations)`,
        ),
      );
    }
  }

  if (storage !== undefined) {
    const field = 'scale_ephemeral_storage_limit';
    const value = spec.scale_ephemeral_storage_limit;
    const cap = Math.min(MAX_EPHEMERAL_STORAGE_BYTES, Math.max(EPHEMERAL_STORAGE_FLOOR_BYTES, memory ?? 0));
    if (storage <= 0) {
      issues.push(invalid('invalid_resources', field, value, 'ephemeral storage must be more than 0'));
    } else if (storage > MAX_EPHEMERAL_STORAGE_BYTES) {
      issues.push(invalid('invalid_resources', field, value, 'ephemeral storage is at most 48G'));
    } else if (memory !== undefined && storage > cap) {
      issues.push(
        invalid(
          'invalid_resources',
          field,
          value,
          `ephemeral storage may not exceed the larger of 400M and the memory limit (scale_memory_limit "${spec.scale_memory_limit}"), i.e. ${formatBytes(cap)}`,
        ),
      );
    }
  }
  return issues;
}

/**
 * A byte count in the shortest readable unit, for messages: `4000000000` → `"4G"`,
 * `400000000` → `"400M"`, `4100000000` → `"4.1G"`, `1073741824` → `"1Gi"`, `512` → `"512"`.
 * Decimal units (G, M, k) with up to two decimals first, then binary (Gi, Mi, Ki), else bytes.
 */
export function formatBytes(n: number): string {
  for (const [suffix, unit] of [
    ['T', 1e12],
    ['G', 1e9],
    ['M', 1e6],
    ['k', 1e3],
  ] as const) {
    if (n >= unit && (n * 100) % unit === 0) return `${n / unit}${suffix}`;
  }
  for (const [suffix, unit] of [
    ['Ti', 1024 ** 4],
    ['Gi', 1024 ** 3],
    ['Mi', 1024 ** 2],
    ['Ki', 1024],
  ] as const) {
    if (n >= unit && n % unit === 0) return `${n / unit}${suffix}`;
  }
  return String(n);
}
