import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { PAYLOAD_ROLES } from '../auth/roles.js';
import { Authorized } from 'type-graphql';
import { Connection } from './connection.js';
import { DateTimeISO, JSON } from './scalars.js';

export enum RunStatus { RUNNING = 'RUNNING', SUCCEEDED = 'SUCCEEDED', PARTIAL = 'PARTIAL', FAILED = 'FAILED', CANCELLED = 'CANCELLED' }
registerEnumType(RunStatus, { name: 'RunStatus' });

export enum StepStatus {
  PENDING = 'PENDING', ROUTED = 'ROUTED', AWAITING_APPROVAL = 'AWAITING_APPROVAL', RUNNING = 'RUNNING',
  RETRY_WAIT = 'RETRY_WAIT', SUCCEEDED = 'SUCCEEDED', FAILED = 'FAILED', SKIPPED = 'SKIPPED',
}
registerEnumType(StepStatus, { name: 'StepStatus' });

export enum Stage { INITIALIZE = 'INITIALIZE', PLAN = 'PLAN', ROUTE = 'ROUTE', APPROVE = 'APPROVE', EXECUTE = 'EXECUTE', AGGREGATE = 'AGGREGATE', COMPLETE = 'COMPLETE', FAILED = 'FAILED' }
registerEnumType(Stage, { name: 'Stage', description: 'The lifecycle stage an event belongs to.' });

export enum GateStatus { OPEN = 'OPEN', GRANTED = 'GRANTED', DENIED = 'DENIED', EXPIRED_DENIED = 'EXPIRED_DENIED', CANCELLED = 'CANCELLED' }
registerEnumType(GateStatus, { name: 'GateStatus' });

export enum FailureMode { AGENT = 'AGENT', SYSTEM = 'SYSTEM', RESOURCE = 'RESOURCE', POLICY = 'POLICY', USER = 'USER' }
registerEnumType(FailureMode, { name: 'FailureMode' });

@ObjectType({ description: 'Who did something, in which role.' })
export class PrincipalRef {
  @Field() id!: string;
  @Field() role!: string;
}

@ObjectType()
export class RecordedError {
  @Field() message!: string;
  @Field(() => String, { nullable: true }) code?: string;
}

@ObjectType()
export class Step {
  @Field(() => ID) id!: string;
  @Field() tool!: string;
  @Field() domain!: string;
  @Field(() => [String]) dependsOn!: string[];
  @Field(() => StepStatus) status!: StepStatus;
  @Field(() => Int) attempts!: number;
  @Field(() => String, { nullable: true }) worker?: string;
  @Authorized(PAYLOAD_ROLES)
  @Field(() => JSON, { nullable: true, description: 'The tool output (not for viewers).' }) output?: unknown;
  @Field(() => RecordedError, { nullable: true }) error?: RecordedError;
  @Field(() => FailureMode, { nullable: true }) failureMode?: FailureMode;
  @Field(() => DateTimeISO, { nullable: true }) retryAt?: string;
  @Field(() => String, { nullable: true }) approvalId?: string;
  @Field(() => Int, { nullable: true }) approvalsRequired?: number;
  @Field(() => Int, { nullable: true }) approvalsReceived?: number;
  @Field(() => GateStatus, { nullable: true }) approvalStatus?: GateStatus;
  @Field(() => DateTimeISO, { nullable: true }) startedAt?: string;
  @Field(() => DateTimeISO, { nullable: true }) finishedAt?: string;
  @Field(() => Float, { nullable: true }) durationMs?: number;
}

@ObjectType()
export class RoutingAlternative {
  @Field() worker!: string;
  @Field(() => Float) score!: number;
  @Field() reason!: string;
}

@ObjectType({ description: 'A routing decision with the alternatives it rejected.' })
export class RoutingDecision {
  @Field() stepId!: string;
  @Field() worker!: string;
  @Field() policy!: string;
  @Field() reasoning!: string;
  @Field(() => [RoutingAlternative]) alternatives!: RoutingAlternative[];
  @Field(() => DateTimeISO) at!: string;
}

@ObjectType({ description: 'Weighted progress: finished steps count fully, steps under way partially.' })
export class Progress {
  @Field(() => Float) percent!: number;
  @Field(() => Int) done!: number;
  @Field(() => Int) inFlight!: number;
  @Field(() => Int) total!: number;
}

@ObjectType({ description: 'One line of the trace: an event without its payload.' })
export class TraceEntry {
  @Field() position!: string;
  @Field(() => Int) revision!: number;
  @Field() type!: string;
  @Field(() => Stage) stage!: Stage;
  @Field(() => DateTimeISO) at!: string;
  @Field() actor!: string;
  @Field(() => String, { nullable: true }) stepId?: string;
}

@ObjectType()
export class RunFailure {
  @Field() stage!: string;
  @Field(() => RecordedError) error!: RecordedError;
  @Field(() => FailureMode, { nullable: true }) failureMode?: FailureMode;
}

@ObjectType({ description: 'A run as the runs read model has it: summary, steps, routing, progress; its trace from its stream.' })
export class Run {
  @Field(() => ID) runId!: string;
  @Field(() => RunStatus) status!: RunStatus;
  @Field(() => Stage) stage!: Stage;
  @Field() goal!: string;
  @Field() profile!: string;
  @Field(() => PrincipalRef, { nullable: true }) requester?: PrincipalRef;
  @Field(() => String, { nullable: true }) errorStrategy?: string;
  @Field(() => String, { nullable: true }) playbook?: string;
  @Field(() => DateTimeISO) startedAt!: string;
  @Field(() => DateTimeISO) updatedAt!: string;
  @Field(() => DateTimeISO, { nullable: true }) endedAt?: string;
  @Field(() => Float, { nullable: true }) durationMs?: number;
  @Field(() => RunFailure, { nullable: true }) failure?: RunFailure;
  @Field(() => PrincipalRef, { nullable: true }) cancelledBy?: PrincipalRef;
  @Field(() => [Step], { complexity: ({ childComplexity }) => 1 + 20 * childComplexity }) steps!: Step[];
  @Field(() => [RoutingDecision], { complexity: ({ childComplexity }) => 1 + 20 * childComplexity }) routing!: RoutingDecision[];
  @Field(() => Progress) progress!: Progress;
}

@ObjectType()
export class RunConnection extends Connection(Run) {}
