/**
 * An approval's own address. Approval ids hold slashes (`<runId>/<stepId>/<n>`), so the id is one
 * encoded path segment: `/approvals/<runId>%2F<stepId>%2F<n>`. The router hands the segment over
 * still encoded (it decodes with decodeURI, which keeps %2F), so the page decodes it.
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
