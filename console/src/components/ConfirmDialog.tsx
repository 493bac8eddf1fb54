/** Asks before something destructive; the confirm button names the action. */
import { useState } from 'react';
import { Dialog } from './Dialog.js';
import { ErrorBanner } from './ErrorBanner.js';

export function ConfirmDialog(props: { title: string; message: string; action: string; onConfirm: () => Promise<void>; onClose: () => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  return (
    <Dialog title={props.title} onClose={props.onClose} testId="confirm-dialog">
      <div className="dialog-body">
        <p>{props.message}</p>
        <ErrorBanner error={error} />
      </div>
      <footer className="dialog-foot">
        <button type="button" onClick={props.onClose}>
          Cancel
        </button>
        <button
          type="button"
          className="danger"
          disabled={busy}
          onClick={async () => {
            setBusy(true);
            setError(undefined);
            try {
              await props.onConfirm();
              props.onClose();
            } catch (e) {
              setError(e);
              setBusy(false);
            }
          }}
        >
          {busy ? 'Working…' : props.action}
        </button>
      </footer>
    </Dialog>
  );
}
