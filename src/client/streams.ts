/**
 * Incremental parsers for the API's streaming bodies, over a WHATWG `ReadableStream` of bytes
 * (what `fetch` returns in browsers and Node): newline-delimited JSON (logs `follow=true`) and
 * server-sent events (the change stream). Both handle records split across chunks and UTF-8
 * characters split across chunks. No Node-only APIs.
 */

/** One server-sent event: `event` defaults to `message`; data lines are joined with `\n`. */
export interface SseMessage {
  event: string;
  data: string;
  id?: string;
}

/** Yields the text of `body` as it arrives, decoded as UTF-8 (stream-safe). Releases the reader at the end. */
async function* decodeText(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const reader = body.getReader();
  const decoder = new TextDecoder('utf-8');
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const text = decoder.decode(value, { stream: true });
      if (text) yield text;
    }
    const rest = decoder.decode();
    if (rest) yield rest;
  } finally {
    // Cancelling (not just releasing) closes the connection when the consumer stops early.
    await reader.cancel().catch(() => undefined);
  }
}

/**
 * Yields the lines of `body` (without terminators). Lines end with `\n`, `\r\n` or `\r`; a
 * `\r` at the end of a chunk waits for the next chunk to know whether `\n` follows. A last line
 * without terminator is yielded at the end.
 */
export async function* readLines(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buffer = '';
  for await (const text of decodeText(body)) {
    buffer += text;
    let start = 0;
    for (let i = 0; i < buffer.length; i++) {
      const c = buffer[i];
      if (c === '\n') {
        yield buffer.slice(start, i);
        start = i + 1;
      } else if (c === '\r') {
        if (i + 1 === buffer.length) break; // decide when the next chunk comes
        yield buffer.slice(start, i);
        if (buffer[i + 1] === '\n') i++;
        start = i + 1;
      }
    }
    buffer = buffer.slice(start);
  }
  if (buffer.endsWith('\r')) buffer = buffer.slice(0, -1);
  if (buffer !== '') yield buffer;
}

/** Parses newline-delimited JSON: one value per non-blank line. A malformed line throws. */
export async function* parseNdjson<T>(body: ReadableStream<Uint8Array>): AsyncGenerator<T> {
  for await (const line of readLines(body)) {
    if (line.trim() === '') continue;
    yield JSON.parse(line) as T;
  }
}

/**
 * Parses a `text/event-stream` (WHATWG HTML §9.2): `event:`, `data:` (repeatable), `id:`
 * fields, comments (`:` lines, e.g. `: keep-alive`) ignored, a blank line dispatches. A message
 * without data lines is not dispatched; a partial message at the end of the stream is dropped.
 */
export async function* parseSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseMessage> {
  let event = '';
  let data: string[] = [];
  let id: string | undefined;
  let lastId: string | undefined;
  for await (const line of readLines(body)) {
    if (line === '') {
      if (id !== undefined) lastId = id;
      if (data.length > 0) {
        const msg: SseMessage = { event: event || 'message', data: data.join('\n') };
        if (lastId !== undefined) msg.id = lastId;
        yield msg;
      }
      event = '';
      data = [];
      id = undefined;
      continue;
    }
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id') id = value;
  }
}
