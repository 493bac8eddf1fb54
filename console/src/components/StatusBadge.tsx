/** A run's status or an instance's state as a coloured badge (the colour never carries meaning alone: the text is there). */
export function StatusBadge(props: { status: string }) {
  return <span className={`badge st-${props.status}`}>{props.status}</span>;
}
