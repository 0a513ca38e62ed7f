/**
 * Where each cost curve bends and why, written from the measured tables and profiles (the numbers
 * they quote are from the run named in docs/performance.md's header; re-read them after a re-run).
 */
export const notes = {
  steps: 'TODO',
  history: 'TODO',
  fanOut: 'TODO',
  approvals: 'TODO',
} as const;
