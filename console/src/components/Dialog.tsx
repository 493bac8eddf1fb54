/**
 * A modal dialog on the native `<dialog>` element: focus moves into it and is trapped by the
 * browser, Escape closes it (the `cancel` event), and focus returns to where it was on close.
 * The first field gets the focus. Mount it to open it; `onClose` should unmount it.
 */
import { useEffect, useId, useRef, type ReactNode } from 'react';

export function Dialog(props: { title: string; onClose: () => void; children: ReactNode; wide?: boolean; testId?: string }) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const previous = document.activeElement as HTMLElement | null;
    const d = ref.current;
    if (d && !d.open) {
      d.showModal();
      // first field of the form (else the first footer button: Cancel in confirmations)
      const first = d.querySelector<HTMLElement>(
        '.dialog-body input:not([disabled]):not([readonly]), .dialog-body select:not([disabled]), .dialog-body textarea:not([disabled]), .dialog-foot button',
      );
      first?.focus();
    }
    return () => {
      if (d?.open) d.close();
      previous?.focus?.();
    };
  }, []);
  return (
    <dialog
      ref={ref}
      className={props.wide ? 'dialog wide' : 'dialog'}
      aria-labelledby={titleId}
      data-testid={props.testId}
      onCancel={(e) => {
        e.preventDefault();
        props.onClose();
      }}
    >
      <header className="dialog-head">
        <h2 id={titleId}>{props.title}</h2>
        <button type="button" className="icon" aria-label="Close" onClick={props.onClose}>
          ×
        </button>
      </header>
      {props.children}
    </dialog>
  );
}
