/** A message about an approval: created, escalated, decided or expired. */
export interface ApprovalNotification {
  readonly event: 'requested' | 'escalated' | 'granted' | 'denied' | 'auto_approved' | 'expired' | 'cancelled';
  readonly approvalId: string;
  readonly runId: string;
  readonly stepId: string;
  readonly riskLevel: string;
  readonly at: string;
  readonly data: unknown;
}

/** Delivers notifications; never blocks a run, never throws to its caller. */
export interface Notifier {
  notify(notification: ApprovalNotification): void;
}
