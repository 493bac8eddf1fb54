/** A labelled form control with an optional hint (the label is tied to the control by id). */
import { useId, type ReactElement, cloneElement } from 'react';

export function Field(props: { label: string; hint?: string; children: ReactElement<{ id?: string; 'aria-describedby'?: string }>; className?: string }) {
  const id = useId();
  const hintId = `${id}-hint`;
  const control = cloneElement(props.children, { id, ...(props.hint ? { 'aria-describedby': hintId } : {}) });
  return (
    <div className={props.className ? `field ${props.className}` : 'field'}>
      <label htmlFor={id}>{props.label}</label>
      {control}
      {props.hint ? (
        <small id={hintId} className="hint">
          {props.hint}
        </small>
      ) : null}
    </div>
  );
}
