import { Field, Int, ObjectType } from 'type-graphql';
import { Connection } from './connection.js';
import { JSON } from './scalars.js';

@ObjectType({ description: 'A tool runs can call.' })
export class Tool {
  @Field() name!: string;
  @Field() description!: string;
  @Field() domain!: string;
  @Field() category!: string;
  @Field() operation!: string;
  @Field(() => String, { nullable: true, description: 'A fixed environment, if the tool declares one.' }) environment?: string;
  @Field() idempotent!: boolean;
  @Field(() => Int) timeoutMs!: number;
  @Field(() => [String]) tags!: string[];
  @Field() requiresApproval!: boolean;
  @Field(() => [String]) eligibleRoles!: string[];
  @Field(() => JSON, { nullable: true, description: 'The input as JSON Schema, where it converts.' }) inputSchema?: unknown;
  @Field({ description: 'False while the tool cannot be called (its MCP server is down): calls fail with SYSTEM.' }) available!: boolean;
  @Field(() => String, { nullable: true, description: 'Why the tool is unavailable.' }) unavailableReason?: string;
}

@ObjectType({ description: 'Calls in flight on a worker that one Gatehouse instance started.' })
export class WorkerInstanceLoad {
  @Field(() => String, { nullable: true, description: 'The instance (GATEHOUSE_INSTANCE_ID) that started the calls; null for an engine without an id.' }) instance?: string | null;
  @Field(() => Int) inFlight!: number;
}

@ObjectType({ description: 'An executor of tool calls.' })
export class Worker {
  @Field() name!: string;
  @Field(() => [String]) tools!: string[];
  @Field(() => [String]) tags!: string[];
  @Field(() => Int) concurrency!: number;
  @Field(() => Int, { description: 'Calls in flight on this worker across every instance on the event store, as this instance has read the log (what least_loaded routing sees).' }) inFlight!: number;
  @Field(() => [WorkerInstanceLoad], { description: 'The calls in flight by the instance that started them (instances with none are not listed).' }) instances!: WorkerInstanceLoad[];
}

@ObjectType({ description: 'What runs of a profile may use and how they behave.' })
export class Profile {
  @Field() name!: string;
  @Field(() => [String]) allowedTools!: string[];
  @Field(() => JSON) budget!: unknown;
  @Field() errorStrategy!: string;
  @Field(() => Int) maxParallel!: number;
  @Field() routing!: string;
}

@ObjectType({ description: 'The caller.' })
export class Me {
  @Field() id!: string;
  @Field() role!: string;
  @Field() isAdmin!: boolean;
  @Field(() => [String], { description: 'The operations this principal may call.' }) operations!: string[];
}

@ObjectType() export class ToolConnection extends Connection(Tool) {}
@ObjectType() export class WorkerConnection extends Connection(Worker) {}
@ObjectType() export class ProfileConnection extends Connection(Profile) {}
