import { Field, ID, InputType, Int, registerEnumType } from 'type-graphql';
import { RunStatus } from './run.js';
import { DateTimeISO, JSON, JSONObject } from './scalars.js';

export enum ErrorStrategy { FAIL_FAST = 'FAIL_FAST', RETRY = 'RETRY', CONTINUE = 'CONTINUE' }
registerEnumType(ErrorStrategy, { name: 'ErrorStrategy' });

@InputType()
export class StepInput {
  @Field(() => ID) id!: string;
  @Field() tool!: string;
  @Field(() => JSONObject) input!: Record<string, unknown>;
  @Field() domain!: string;
  @Field(() => [String], { nullable: true }) dependsOn?: string[];
  @Field(() => String, { nullable: true }) description?: string;
}

@InputType()
export class PlaybookInput {
  @Field() name!: string;
  @Field(() => JSONObject, { nullable: true, description: 'Parameter name → string value.' }) params?: Record<string, unknown>;
}

@InputType({ description: 'Explicit steps or a playbook (exactly one).' })
export class StartRunInput {
  @Field() goal!: string;
  @Field() profile!: string;
  @Field(() => [StepInput], { nullable: true }) steps?: StepInput[];
  @Field(() => PlaybookInput, { nullable: true }) playbook?: PlaybookInput;
  @Field(() => ErrorStrategy, { nullable: true }) errorStrategy?: ErrorStrategy;
  @Field(() => JSON, { nullable: true, description: 'Overrides of the profile budget: totalCalls, perDomain, perTool, onExceed.' }) budget?: unknown;
  @Field(() => Int, { nullable: true }) maxParallel?: number;
  @Field(() => DateTimeISO, { nullable: true }) deadline?: Date;
  @Field(() => String, { nullable: true, description: 'A retried request with the same key (per caller) returns the same run.' }) idempotencyKey?: string;
}

@InputType()
export class ApproveInput {
  @Field(() => ID) approvalId!: string;
  @Field(() => String, { nullable: true }) justification?: string;
  @Field(() => JSONObject, { nullable: true, description: 'Changed tool input; validated against the tool\'s schema.' }) editedInput?: Record<string, unknown>;
}

@InputType()
export class DenyInput {
  @Field(() => ID) approvalId!: string;
  @Field(() => String, { nullable: true }) justification?: string;
}

@InputType()
export class ApprovalReasonInput {
  @Field(() => ID) approvalId!: string;
  @Field(() => String, { nullable: true }) reason?: string;
}

@InputType()
export class RunsFilter {
  @Field(() => RunStatus, { nullable: true }) status?: RunStatus;
  @Field(() => String, { nullable: true }) profile?: string;
  @Field(() => String, { nullable: true, description: 'Requester principal id.' }) requester?: string;
  @Field(() => DateTimeISO, { nullable: true, description: 'Started at or after.' }) startedAfter?: Date;
  @Field(() => DateTimeISO, { nullable: true, description: 'Started before.' }) startedBefore?: Date;
}

@InputType()
export class EscalateInput {
  @Field(() => ID) approvalId!: string;
  @Field(() => [String], { nullable: true, description: 'Roles to hand the request to; default: the policy\'s next roles.' }) toRoles?: string[];
  @Field(() => String, { nullable: true }) reason?: string;
}
