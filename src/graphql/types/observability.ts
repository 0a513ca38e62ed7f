import { Field, Float, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { JSON } from './scalars.js';

@ObjectType({ description: 'One budget scope: `total`, `domain:<d>` or `tool:<t>`.' })
export class BudgetLine {
  @Field() scope!: string;
  @Field() kind!: string;
  @Field(() => String, { nullable: true }) key?: string;
  @Field(() => Int, { nullable: true }) limit?: number;
  @Field(() => Int, { description: 'Calls counted (for a profile: over all time).' }) used!: number;
  @Field(() => Int, { nullable: true }) remaining?: number;
  @Field(() => Float, { nullable: true }) percent?: number;
  @Field(() => Int, { description: 'Warnings at 80 % (1/0 for a run).' }) warnings!: number;
  @Field(() => Int, { description: 'Times the limit was exceeded (1/0 for a run).' }) exceeded!: number;
  @Field(() => Int, { nullable: true, description: 'Calls blocked (profiles).' }) blocked?: number;
  @Field(() => String, { nullable: true }) action?: string;
}

@ObjectType({ description: 'Budget utilization of a run, or of a profile over all its runs.' })
export class Budget {
  @Field(() => String, { nullable: true }) runId?: string;
  @Field() profile!: string;
  @Field(() => Int, { nullable: true }) runs?: number;
  @Field(() => Int, { nullable: true }) liveRuns?: number;
  @Field(() => [BudgetLine]) lines!: BudgetLine[];
}

@InputType({ description: 'Give exactly one: a run or a profile.' })
export class BudgetScopeInput {
  @Field(() => String, { nullable: true }) runId?: string;
  @Field(() => String, { nullable: true }) profile?: string;
}

export enum SignalWindow { ALL = 'all', LAST_5M = '5m', LAST_1H = '1h' }
registerEnumType(SignalWindow, { name: 'SignalWindow' });

@ObjectType()
export class Percentiles {
  @Field(() => Int) count!: number;
  @Field(() => Float) p50!: number;
  @Field(() => Float) p95!: number;
  @Field(() => Float) p99!: number;
  @Field(() => Float) max!: number;
}

@ObjectType({ description: 'Golden signals of a scope (`overall`, `tool:<name>`, `worker:<name>`, `profile:<name>`).' })
export class GoldenSignals {
  @Field() scope!: string;
  @Field(() => SignalWindow) window!: SignalWindow;
  @Field(() => Int) calls!: number;
  @Field(() => Float) successRate!: number;
  @Field(() => Float) errorRate!: number;
  @Field(() => JSON, { description: 'Per failure mode: count and rate.' }) errorsByMode!: unknown;
  @Field(() => Percentiles) latencyMs!: Percentiles;
  @Field(() => Percentiles) approvalWaitMs!: Percentiles;
  @Field(() => JSON) approvals!: unknown;
  @Field(() => JSON) runs!: unknown;
  @Field(() => Float, { nullable: true, description: 'Calls per second over the window.' }) throughput?: number;
}
