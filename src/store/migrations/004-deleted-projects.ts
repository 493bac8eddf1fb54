/**
 * Migration 4: the ids of deleted projects.
 * Built images are tagged after their project (`localhost/cejobs-build/<project id prefix>-…`)
 * in a container engine other cejobs servers may share, so a server only removes images of its
 * own projects; a deleted project's id stays known here so its images can still be collected.
 */
export const sql = `
CREATE TABLE deleted_projects (
  id          TEXT PRIMARY KEY,
  deleted_ms  INTEGER NOT NULL
);
`;
