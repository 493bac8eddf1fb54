/** An error as the server reported it (every message of an API error), or nothing. */
import { isApiError } from '../../../src/client/index.js';
import { errorMessages } from '../lib/format.js';

export function ErrorBanner(props: { error: unknown; title?: string }) {
  if (props.error === undefined || props.error === null) return null;
  const messages = errorMessages(props.error);
  const code = isApiError(props.error) ? props.error.code : undefined;
  return (
    <div className="error" role="alert">
      <strong>{props.title ?? 'Error'}</strong>
      {code && code !== 'unreachable' ? <span className="code">{code}</span> : null}
      {messages.length === 1 ? <p>{messages[0]}</p> : <ul>{messages.map((m, i) => <li key={i}>{m}</li>)}</ul>}
    </div>
  );
}
