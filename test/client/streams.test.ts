import { describe, expect, it } from 'vitest';
import { parseSse, readLines } from '../../src/client/streams.js';

function streamOf(chunks: (string | Uint8Array)[]): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  return new ReadableStream({
    start(c) {
      for (const ch of chunks) c.enqueue(typeof ch === 'string' ? enc.encode(ch) : ch);
      c.close();
    },
  });
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('readLines', () => {
  it('splits on \\n, \\r\\n and \\r, also when \\r\\n straddles chunks', async () => {
    expect(await collect(readLines(streamOf(['a\nb\r', '\nc\rd', '', 'e\r'])))).toEqual(['a', 'b', 'c', 'de']);
  });
  it('splits a multibyte character across chunks correctly', async () => {
    const bytes = new TextEncoder().encode('✓x\n');
    expect(await collect(readLines(streamOf([bytes.subarray(0, 1), bytes.subarray(1, 2), bytes.subarray(2)])))).toEqual(['✓x']);
  });
});

describe('parseSse', () => {
  it('joins data lines, keeps ids, defaults the event name and drops a partial last message', async () => {
    const msgs = await collect(parseSse(streamOf(['id: 1\ndata: a\ndata:b\n\n', 'data: c\n\n', 'event: x\ndata: partial'])));
    expect(msgs).toEqual([
      { event: 'message', data: 'a\nb', id: '1' },
      { event: 'message', data: 'c', id: '1' },
    ]);
  });
});
