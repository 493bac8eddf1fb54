import { describe, expect, it } from 'vitest';
import { CPU_MEMORY_PAIRS, checkResources, formatBytes, parseCpu, parseMemory } from '../../src/domain/quantities.js';
import { expectIssue, expectThrowsIssue } from './helpers.js';

describe('parseCpu', () => {
  it.each([
    ['0.125', 125],
    ['0.25', 250],
    ['0.5', 500],
    ['.5', 500],
    ['1', 1000],
    ['1.', 1000],
    ['1.000', 1000],
    ['12', 12000],
    ['500m', 500],
    ['125m', 125],
    ['0', 0],
  ])('%j → %i', (value, expected) => {
    expect(parseCpu(value)).toBe(expected);
  });
  it.each([
    ['', 'vCPUs'],
    ['abc', 'vCPUs'],
    ['1.0001', 'finer than 0.001'],
    ['-1', 'vCPUs'],
    ['1e3', 'vCPUs'],
    ['0.5m', 'vCPUs'],
    ['1 ', 'vCPUs'],
    ['12345678901', 'vCPUs'],
  ])('rejects %j', (value, rule) => {
    expectThrowsIssue(() => parseCpu(value), 'invalid_resources', 'scale_cpu_limit', JSON.stringify(value), rule);
  });
});

describe('parseMemory (supported units)', () => {
  it.each([
    ['4G', 4_000_000_000],
    ['0.25G', 250_000_000],
    ['0.5G', 500_000_000],
    ['400M', 400_000_000],
    ['4000M', 4_000_000_000],
    ['512', 512],
    ['1k', 1000],
    ['1K', 1000],
    ['1T', 1e12],
    ['1Ki', 1024],
    ['1Mi', 1024 ** 2],
    ['1Gi', 1024 ** 3],
    ['1Ti', 1024 ** 4],
    ['1.5Ki', 1536],
    ['48G', 48e9],
  ])('%j → %i bytes', (value, bytes) => {
    expect(parseMemory(value)).toBe(bytes);
  });
  it.each([
    ['', 'a memory quantity'],
    ['4GB', 'a memory quantity'],
    ['4g', 'a memory quantity'],
    ['4P', 'a memory quantity'],
    ['1e3', 'a memory quantity'],
    ['100m', 'a memory quantity'],
    ['4 G', 'a memory quantity'],
    ['-4G', 'a memory quantity'],
    ['1.2.3G', 'a memory quantity'],
    ['0.5', 'not a whole number of bytes'],
    ['1.0001k', 'not a whole number of bytes'],
    ['12345678901', 'it has 11 characters'],
  ])('rejects %j', (value, rule) => {
    expectThrowsIssue(() => parseMemory(value), 'invalid_resources', 'scale_memory_limit', JSON.stringify(value), rule);
  });
  it('names the field it is given', () => {
    expectThrowsIssue(() => parseMemory('x', 'scale_ephemeral_storage_limit'), 'invalid_resources', 'scale_ephemeral_storage_limit', '"x"');
  });
});

describe('CPU_MEMORY_PAIRS (reference §4.2)', () => {
  it('is the table of the reference', () => {
    expect(CPU_MEMORY_PAIRS).toEqual([
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
    ]);
  });
});

const spec = (cpu: string, memory: string, storage = '400M') => ({
  scale_cpu_limit: cpu,
  scale_memory_limit: memory,
  scale_ephemeral_storage_limit: storage,
});

describe('checkResources: every listed pair is valid', () => {
  const pairs = CPU_MEMORY_PAIRS.flatMap((p) => p.memory.map((m) => [p.cpu, m] as const));
  it('has 27 pairs', () => expect(pairs).toHaveLength(27));
  it.each(pairs)('cpu %s, memory %s', (cpu, memory) => {
    expect(checkResources(spec(cpu, memory))).toEqual([]);
    expect(checkResources(spec(cpu, memory, memory))).toEqual([]);
  });
  it.each([
    ['1', '4000M'],
    ['0.5', '4G'],
    ['500m', '2G'],
    ['0.125', '250M'],
    ['1.0', '4G'],
  ])('numeric comparison: cpu %s, memory %s', (cpu, memory) => {
    expect(checkResources(spec(cpu, memory))).toEqual([]);
  });
});

describe('checkResources: invalid pairs', () => {
  it.each([
    ['1', '3G', '2G, 4G, 8G'],
    ['1', '16G', '2G, 4G, 8G'],
    ['0.125', '4G', '0.25G, 0.5G, 1G'],
    ['8', '48G', '16G, 32G'],
    ['1', '4Gi', '2G, 4G, 8G'],
  ])('cpu %s, memory %s → allowed %s', (cpu, memory, allowed) => {
    const issues = checkResources(spec(cpu, memory));
    expectIssue(issues, 'invalid_resources', 'scale_memory_limit', `"${memory}"`, allowed, `scale_cpu_limit "${cpu}"`);
  });
  it.each(['3', '0.1', '16', '0', '0.75'])('cpu %s is not a listed value', (cpu) => {
    expectIssue(checkResources(spec(cpu, '4G')), 'invalid_resources', 'scale_cpu_limit', `"${cpu}"`, '0.125, 0.25, 0.5, 1, 2, 4, 6, 8, 10, 12');
  });
  it('reports unparsable values on their field', () => {
    const issues = checkResources(spec('x', 'y', 'z'));
    expectIssue(issues, 'invalid_resources', 'scale_cpu_limit', '"x"');
    expectIssue(issues, 'invalid_resources', 'scale_memory_limit', '"y"');
    expectIssue(issues, 'invalid_resources', 'scale_ephemeral_storage_limit', '"z"');
  });
});

describe('checkResources: ephemeral storage (reference §4.1, §4.2)', () => {
  it.each([
    ['0.125', '0.25G', '400M'],
    ['0.125', '0.25G', '0.4G'],
    ['1', '4G', '4G'],
    ['1', '4G', '1M'],
    ['1', '4G', '4000M'],
    ['6', '48G', '48G'],
    ['1', '2G', '2G'],
  ])('cpu %s, memory %s, storage %s is valid', (cpu, memory, storage) => {
    expect(checkResources(spec(cpu, memory, storage))).toEqual([]);
  });
  it.each([
    ['0.125', '0.25G', '401M', 'larger of 400M and the memory limit', '400M'],
    ['1', '4G', '4.1G', 'larger of 400M and the memory limit', '4G'],
    ['1', '4G', '4001M', 'larger of 400M and the memory limit', '4G'],
    ['1', '4G', '0', 'more than 0', ''],
    ['6', '48G', '49G', 'at most 48G', ''],
  ])('cpu %s, memory %s, storage %s → %s', (cpu, memory, storage, rule, cap) => {
    const found = expectIssue(checkResources(spec(cpu, memory, storage)), 'invalid_resources', 'scale_ephemeral_storage_limit', `"${storage}"`, rule);
    if (cap) expect(found.message).toContain(`i.e. ${cap}`);
  });
});

describe('formatBytes', () => {
  it.each([
    [4_000_000_000, '4G'],
    [400_000_000, '400M'],
    [4_100_000_000, '4.1G'],
    [250_000_000, '250M'],
    [48e9, '48G'],
    [1e12, '1T'],
    [1500, '1.5k'],
    [1024 ** 3, '1Gi'],
    [1024 ** 2, '1Mi'],
    [1024, '1Ki'],
    [512, '512'],
    [0, '0'],
  ])('%d → %j', (n, s) => {
    expect(formatBytes(n)).toBe(s);
  });
});
