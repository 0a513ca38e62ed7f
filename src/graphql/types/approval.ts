import { Authorized, Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { PAYLOAD_ROLES } from '../auth/roles.js';
import { Connection } from './connection.js';
import { GateStatus, PrincipalRef, Run } from './run.js';
import { DateTimeISO, JSONObject } from './scalars.js';

export enum RiskLevel { low = 'low', medium = 'medium', high = 'high', critical = 'critical' }
registerEnumType(RiskLevel, { name: 'RiskLevel' });

export enum ReviewLevel { AUTO = 'AUTO', QUICK = 'QUICK', FULL = 'FULL' }
registerEnumType(ReviewLevel, { name: 'ReviewLevel' });

export enum ApprovalScope { ACTIONABLE = 'ACTIONABLE', MINE = 'MINE', ALL = 'ALL' }
registerEnumType(ApprovalScope, {
  name: 'ApprovalScope',
  description: 'ACTIONABLE: what the caller may decide now. MINE: the caller\'s own requests. ALL: everything the caller may see.',
});

@ObjectType()
export class RiskAssessment {
  @Field(() => RiskLevel) level!: RiskLevel;
  @Field(() => Float) score!: number;
  @Field(() => [String]) factors!: string[];
}

@ObjectType()
export class ConfidenceAdjustment {
  @Field() reason!: string;
  @Field(() => Float) delta!: number;
}

@ObjectType()
export class ConfidenceAssessment {
  @Field(() => Float) score!: number;
  @Field(() => [ConfidenceAdjustment]) adjustments!: ConfidenceAdjustment[];
}

@ObjectType()
export class Escalation {
  @Field(() => PrincipalRef) by!: PrincipalRef;
  @Field(() => [String]) toRoles!: string[];
  @Field(() => DateTimeISO) at!: string;
  @Field(() => String, { nullable: true }) reason?: string;
}

@ObjectType({ description: 'An approval gate on a step.' })
export class Approval {
  @Field(() => ID) approvalId!: string;
  @Field() runId!: string;
  @Field() stepId!: string;
  @Field(() => String, { nullable: true }) tool?: string;
  @Field(() => GateStatus) status!: GateStatus;
  @Field(() => RiskAssessment) risk!: RiskAssessment;
  @Field(() => ConfidenceAssessment) confidence!: ConfidenceAssessment;
  @Field(() => ReviewLevel) reviewLevel!: ReviewLevel;
  @Field(() => Int) requiredApprovals!: number;
  @Field(() => Int) receivedApprovals!: number;
  @Field(() => [String]) approvers!: string[];
  @Field(() => [String]) eligibleRoles!: string[];
  @Field(() => [Escalation]) escalations!: Escalation[];
  @Field(() => PrincipalRef) requester!: PrincipalRef;
  @Field() justificationRequired!: boolean;
  @Field(() => DateTimeISO, { nullable: true }) requestedAt?: string;
  @Field(() => DateTimeISO) expiresAt!: string;
  @Field() priority!: string;
  @Field(() => Float, { nullable: true, description: 'Age in ms when the request was read (open requests).' }) ageMs?: number;
  @Authorized(PAYLOAD_ROLES)
  @Field(() => JSONObject, { description: 'The tool input the approver decides on, redacted (not for viewers).' }) input!: Record<string, unknown>;
}

@ObjectType()
export class ApprovalConnection extends Connection(Approval) {}

@ObjectType({ description: 'An approval decision\'s result: the gate as the log has it now, and the run\'s read model after it.' })
export class ApprovalPayload {
  @Field(() => Approval) approval!: Approval;
  @Field(() => Run) run!: Run;
}

export enum ApprovalChangeKind { REQUESTED = 'REQUESTED', UPDATED = 'UPDATED', CLOSED = 'CLOSED' }
registerEnumType(ApprovalChangeKind, { name: 'ApprovalChangeKind' });

@ObjectType({ description: 'A change to the set of open approvals.' })
export class ApprovalChange {
  @Field(() => ApprovalChangeKind) kind!: ApprovalChangeKind;
  @Field() eventType!: string;
  @Field(() => ID) approvalId!: string;
  @Field() runId!: string;
  @Field({ description: 'Position of the event in the global log.' }) position!: string;
  @Field(() => Approval, { nullable: true, description: 'The open request after the change (absent once closed).' }) approval?: Approval;
}
