/** Which of cancel / resume to offer. */
export interface OfferedActions { readonly cancel: boolean; readonly resume: boolean }

/**
 * Cancel and resume, offered to those whose role may call them (`can`) and only where the run's
 * status lets them succeed (a running run cancels, a failed one resumes). The server still
 * decides (e.g. a developer acting on someone else's run) and its refusal is shown in place.
 */
export function offeredActions(status: string, can: (operation: string) => boolean): OfferedActions {
  return { cancel: status === 'RUNNING' && can('cancelRun'), resume: status === 'FAILED' && can('resumeRun') };
}
