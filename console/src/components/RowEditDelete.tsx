/** The Edit and Delete buttons of a named row in a list table's actions cell. */
export function RowEditDelete(props: { name: string; onEdit: () => void; onDelete: () => void }) {
  return (
    <>
      <button type="button" className="small" onClick={props.onEdit} aria-label={`Edit ${props.name}`}>
        Edit
      </button>
      <button type="button" className="small danger-text" onClick={props.onDelete} aria-label={`Delete ${props.name}`}>
        Delete
      </button>
    </>
  );
}
