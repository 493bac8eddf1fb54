/** The footer of a form in a dialog: Cancel (closes, saves nothing), then the submit button that names the action. */
export function FormFooter(props: { onCancel: () => void; submit: string; disabled?: boolean | undefined }) {
  return (
    <footer className="dialog-foot">
      <button type="button" onClick={props.onCancel}>
        Cancel
      </button>
      <button type="submit" className="primary" disabled={props.disabled}>
        {props.submit}
      </button>
    </footer>
  );
}
