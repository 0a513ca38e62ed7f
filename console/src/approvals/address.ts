/**
 * An approval's own address. Approval ids hold slashes (`<runId>/<stepId>/<n>`): the console
 * writes the id as one encoded path segment, `/approvals/<runId>%2F<stepId>%2F<n>`, and also opens
 * a link that left the slashes as they are (the route takes the rest of the path). The router
 * hands the path over with %2F still encoded (it decodes with decodeURI), so the page decodes it.
 */
export function approvalPath(approvalId: string): string {
  return `/approvals/${encodeURIComponent(approvalId)}`;
}

/** The approval id from the `/approvals/:id` segment (a malformed escape is taken as written). */
export function approvalIdFromSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
