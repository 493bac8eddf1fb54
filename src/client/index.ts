/** The typed API client (browser-safe). Node-only discovery: `./discovery.js`. */
export { CejobsClient, type CejobsClientOptions } from './client.js';
export { ApiError, isApiError } from './errors.js';
export { parseNdjson, parseSse, readLines, type SseMessage } from './streams.js';
export type * from './types.js';
export { SECRET_FORMATS } from './types.js';
